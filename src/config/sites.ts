/**
 * A sites file's data validated and built into the {@link SiteConfig}s the checks use.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { RE2JS } from "re2js";
import { quoted } from "../text.ts";
import { readSmallFile } from "./text_file.ts";
import { formatDuration, parseDurationMs } from "./duration.ts";
import { EVERY_NAME_A_WORD, interpolateEnv } from "./interpolate.ts";
import type { z } from "zod";
import {
  LIMITS,
  MAX_PATTERN_SOURCE_CHARS,
  type METHODS,
  patternSource,
  type SiteKeys,
  siteKeysSchema,
  type SiteOptions,
  statusRange,
} from "./sites_schema.ts";
import { type ProblemContext, reportIssues, shownValue, valueAt } from "./sites_problems.ts";
import { formatKeyPath, type KeyPath } from "./yaml_source.ts";

/** Defaults for keys that neither a site nor the `defaults` block sets. */
export const DEFAULTS = {
  intervalMs: 60_000,
  timeoutMs: 10_000,
  method: "GET",
  expectStatus: [[200, 399]] as const,
  maxRedirects: 10,
  maxBodyBytes: 1024 * 1024,
} as const;

/** One site to check, every default applied. */
export interface SiteConfig {
  readonly id: string;
  readonly name: string;
  /** References resolved. */
  readonly url: string;
  /** What results record, references unresolved: a secret in a URL stays out of Kafka. */
  readonly urlAsWritten: string;
  readonly method: typeof METHODS[number];
  readonly headers: Readonly<Record<string, string>>;
  /** Lower case; the others are for the site's origin only. */
  readonly forwardHeadersOnRedirect: readonly string[];
  readonly body: string | null;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Inclusive ranges. */
  readonly expectStatus: readonly (readonly [number, number])[];
  /** The RE2 source results record (flags inline, references unresolved: no secrets), compiled. */
  readonly pattern: { readonly source: string; readonly regex: RE2JS } | null;
  readonly maxRedirects: number;
  readonly maxBodyBytes: number;
  readonly tlsVerify: boolean;
  /** PEM, from `ca_file`; null: the system's CAs. */
  readonly caCert: string | null;
  readonly certMinDays: number | null;
}

/** A chain of a few dozen certificates: a site's message carries its CA file. */
export const MAX_CA_FILE_BYTES = 64 * 1024;

/** Compiled patterns by source, shared by the sites built with it. */
export type Patterns = Map<string, RE2JS>;

/** A site built, with its index in `sites`. */
export interface BuiltSite {
  readonly index: number;
  readonly site: SiteConfig;
  /** As messages show it; `null` when its interval or timeout has a problem (nothing compares). */
  readonly timeoutShown: string | null;
}

/** Where relative paths start, where problems go, the data as written, and patterns to share. */
type FileContext = ProblemContext & { readonly baseDir: string; readonly compiled?: Patterns };

/** With problems: each site's index in the file, and the keys left out, which no rule reads. */
type Pruned = { readonly indexes: readonly number[]; readonly pruned: ReadonlySet<string> };

/** Applies defaults and checks the rules that span keys or sites. */
function buildSites(file: SiteKeys, context: FileContext & Partial<Pruned>): BuiltSite[] {
  const { report } = context;
  const shown = (path: KeyPath, used: string) => shownValue(context.written, path, used);
  const defaults: SiteOptions = file.defaults ?? {};
  const defaultCa = readCaFile(defaults.ca_file, ["defaults", "ca_file"], context);
  const firstIndexById = new Map<string, number>();
  // Thousands of sites often share one pattern, and a compiled RE2JS is immutable: one each.
  const compiled = context.compiled ?? new Map<string, RE2JS>();
  const compile = (source: string) =>
    compiled.get(source) ?? compiled.set(source, RE2JS.compile(source)).get(source)!;

  const pruned = context.pruned ?? new Set<string>();
  return file.sites.map((site, position) => {
    const index = context.indexes?.[position] ?? position;
    const at = (key: string): KeyPath => ["sites", index, key];
    // The site's keys win over the defaults' (zod leaves out the keys a site leaves out).
    const option: SiteOptions = { ...defaults, ...site };
    const from = (key: keyof SiteOptions): KeyPath =>
      site[key] !== undefined ? at(key) : ["defaults", key];
    // A key left out for a problem of its own has no known value: its default would make up problems.
    const known = (...keys: ("interval" | "timeout" | "method")[]) =>
      keys.every((key) =>
        !pruned.has(formatKeyPath(at(key))) &&
        (site[key] !== undefined || !pruned.has("defaults") && !pruned.has(`defaults.${key}`))
      );
    const seenAt = firstIndexById.get(site.id);
    if (seenAt === undefined) firstIndexById.set(site.id, index);
    else {
      const id = shown(at("id"), site.id);
      report(at("id"), `"${id}" is already the id of sites[${seenAt}]: ids must be unique`);
    }

    const intervalMs = parseDurationMs(option.interval ?? "") ?? DEFAULTS.intervalMs;
    const timeoutMs = parseDurationMs(option.timeout ?? "") ??
      Math.min(DEFAULTS.timeoutMs, intervalMs);
    const timing = known("interval", "timeout");
    const timeoutShown = timing ? shown(from("timeout"), formatDuration(timeoutMs)) : null;
    if (timeoutMs > intervalMs && timing) {
      const path = site.timeout === undefined && site.interval !== undefined
        ? at("interval")
        : from("timeout");
      const interval = shown(from("interval"), formatDuration(intervalMs));
      report(
        path,
        `timeout ${timeoutShown} is longer than the interval ${interval}: a check must end before the next one is due`,
      );
    }
    const method = option.method ?? DEFAULTS.method;
    if (site.body !== undefined && (method === "GET" || method === "HEAD") && known("method")) {
      const used = shown(from("method"), method);
      report(at("body"), `cannot be sent with method ${used}: set method to POST or another`);
    }
    const redirects = option.follow_redirects ?? true;
    const recorded = site.pattern === undefined ? null : patternSource(
      typeof site.pattern === "string"
        ? shown(at("pattern"), site.pattern)
        : { ...site.pattern, regex: shown([...at("pattern"), "regex"], site.pattern.regex) },
    );
    // (References can make it longer as written than as used, and results carry it.)
    if (recorded !== null && recorded.length > MAX_PATTERN_SOURCE_CHARS) {
      report(at("pattern"), `must be at most ${LIMITS.maxPatternChars} characters as written`);
    }
    const built: SiteConfig = {
      id: site.id,
      name: site.name ?? site.id,
      url: site.url,
      urlAsWritten: recordedUrl(valueAt(context.written, at("url")), site.url),
      method,
      headers: { ...defaults.headers, ...site.headers },
      forwardHeadersOnRedirect: (option.forward_headers_on_redirect ?? [])
        .map((name) => name.toLowerCase()),
      body: site.body ?? null,
      intervalMs,
      timeoutMs,
      expectStatus: option.expect_status?.map(statusRange) ?? DEFAULTS.expectStatus,
      pattern: site.pattern === undefined || recorded === null
        ? null
        : { source: recorded, regex: compile(patternSource(site.pattern)) },
      maxRedirects: redirects === true ? DEFAULTS.maxRedirects : Number(redirects), // false: 0
      maxBodyBytes: option.max_body_bytes ?? DEFAULTS.maxBodyBytes,
      tlsVerify: option.tls_verify ?? true,
      caCert: site.ca_file === undefined
        ? defaultCa
        : readCaFile(site.ca_file, at("ca_file"), context),
      certMinDays: option.cert_min_days ?? null,
    };
    return { index, site: built, timeoutShown };
  });
}

/** A PEM private key however labelled, SSH2's four-dash form too. */
const PRIVATE_KEY = /-{4,5} ?BEGIN [^\n-]*PRIVATE KEY/i;
const CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----/g;

/** The certificates of a CA file (they go to every checker) and nothing else: a key is refused. */
export function caCertificates(text: string): { pem: string } | { problem: string } {
  if (PRIVATE_KEY.test(text)) {
    return {
      problem:
        "holds a private key: a CA file must hold certificates only (what it holds goes to every checker); name the CA certificate, not a key and certificate bundle",
    };
  }
  const certificates = text.match(CERTIFICATE);
  if (certificates === null) return { problem: "is not a PEM certificate file" };
  return { pem: `${certificates.join("\n")}\n` };
}

/** The certificates of the CA file named at `at`, or null, its problem reported (if it has one). */
export function readCaFile(
  path: string | undefined,
  at: KeyPath,
  context: FileContext,
): string | null {
  if (path === undefined) return null;
  const resolved = isAbsolute(path) ? path : join(context.baseDir, path);
  const tooLarge = (bytes: number) =>
    `is ${bytes} bytes: a CA file may hold at most ${MAX_CA_FILE_BYTES} bytes (64 KiB) of PEM certificates`;
  let problem: string;
  try {
    const certificates = caCertificates(readSmallFile(resolved, MAX_CA_FILE_BYTES, tooLarge));
    if ("pem" in certificates) return certificates.pem;
    problem = certificates.problem;
  } catch (error) {
    problem = (error as Error).message;
  }
  context.report(at, `${quoted(shownValue(context.written, at, path))} ${problem}`);
  return null;
}

/**
 * The URL results record: as written when that reads as a URL; else, when a reference stands for
 * the scheme or the host and port, the resolved origin alone (with `/…` for a path: it may hold a token).
 */
function recordedUrl(written: unknown, resolved: string): string {
  if (typeof written !== "string") return resolved;
  if (URL.canParse(interpolateEnv(written, EVERY_NAME_A_WORD, () => {}) as string)) return written;
  const url = new URL(resolved);
  return url.pathname === "/" ? `${url.origin}/` : `${url.origin}/…`;
}

/** Validates a sites file's data (references resolved) and builds its sites, reporting problems. */
export function checkSites(data: unknown, context: FileContext): BuiltSite[] {
  const parsed = siteKeysSchema.safeParse(data);
  if (parsed.success) return buildSites(parsed.data, context);
  reportIssues(parsed.error.issues, context);
  const parts = usableParts(data as Record<string, unknown>, parsed.error.issues);
  return parts === null ? [] : buildSites(parts.file, { ...context, ...parts.context });
}

/** The keys of sites and defaults without a problem, for the rules across keys; `null`: no list. */
function usableParts(data: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]) {
  const pruned = new Set<string>();
  for (const issue of issues) {
    const paths = issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => [...issue.path, key])
      : [issue.path];
    for (const path of paths) {
      // A key of a site or of the defaults; or either of them whole.
      const entry = path.slice(0, path[0] === "sites" ? 3 : 2);
      if (entry.length < 2 && entry[0] === "sites") return null;
      pruned.add(formatKeyPath(entry));
    }
  }
  const has = (path: KeyPath) => pruned.has(formatKeyPath(path));
  const without = (value: unknown, at: KeyPath) =>
    Object.fromEntries(Object.entries(value ?? {}).filter(([key]) => !has([...at, key])));
  const sites = (data.sites as unknown[]).map((site, index) => ({ site, index }))
    .filter(({ index }) => !has(["sites", index]) && !has(["sites", index, "id"]));
  const file = {
    sites: sites.map(({ site, index }) => ({
      // No rule across keys reads the URL: one in its place will do.
      url: "http://url.invalid/",
      ...without(site, ["sites", index]),
    })),
    ...(has(["defaults"]) ? {} : { defaults: without(data.defaults, ["defaults"]) }),
  } as SiteKeys;
  return { file, context: { pruned, indexes: sites.map(({ index }) => index) } };
}
