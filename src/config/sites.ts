/**
 * A site as the checks use it ({@link SiteConfig}), built from a sites file's keys as written:
 * every default applied, the rules that span keys or sites checked, the CA files read.
 * `sites_file.ts` reads the file and hands what it validated to {@link buildSites}.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { RE2JS } from "re2js";
import { printable, quoted } from "../text.ts";
import { formatDuration, parseDurationMs } from "./duration.ts";
import { EVERY_NAME_A_WORD, interpolateEnv } from "./interpolate.ts";
import { caCertificates } from "./pem.ts";
import {
  LIMITS,
  MAX_PATTERN_SOURCE_CHARS,
  type METHODS,
  patternSource,
  type SiteEntry,
  type SiteKeys,
  type SiteOptions,
  statusRange,
} from "./sites_schema.ts";
import { type ProblemContext, shownValue, valueAt } from "./sites_problems.ts";
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

/** An HTTP method a check may use. */
export type Method = typeof METHODS[number];

/** A regular expression compiled by the linear-time engine. */
export interface SitePattern {
  /**
   * The pattern as RE2 source, flags inline: what results record (and their messages quote), so
   * a pattern from a `${NAME}` reference is as written, the reference unresolved.
   */
  readonly source: string;
  /** The compiled expression; `test()` runs in time linear in the input. */
  readonly regex: RE2JS;
}

/** One site to check, with every default applied. */
export interface SiteConfig {
  readonly id: string;
  readonly name: string;
  /** The URL to request, `${NAME}` references resolved. */
  readonly url: string;
  /**
   * The URL as the sites file writes it, references unresolved: what results record, so a secret
   * in a URL stays out of Kafka and the database.
   */
  readonly urlAsWritten: string;
  readonly method: Method;
  /** Request headers, defaults merged in (the site's win). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Names (lower case) of the headers still sent after a redirect to another origin, unless it
   * goes from https to http; the others are for the site's origin only.
   */
  readonly forwardHeadersOnRedirect: readonly string[];
  readonly body: string | null;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Inclusive status ranges that count as up. */
  readonly expectStatus: readonly (readonly [number, number])[];
  readonly pattern: SitePattern | null;
  /** Most redirects followed; 0: a redirect is the final response. */
  readonly maxRedirects: number;
  readonly maxBodyBytes: number;
  /** False only when the file says `tls_verify: false`. */
  readonly tlsVerify: boolean;
  /** CA certificate(s) (PEM) to verify the site with instead of the system's, from `ca_file`. */
  readonly caCert: string | null;
  /** Fewer days than this until the certificate expires is a failure. */
  readonly certMinDays: number | null;
}

/**
 * Room for a chain of a few dozen PEM certificates: each site's message on the sites topic
 * carries its CA file whole, and a message must stay well under a broker's 1 MB.
 */
export const MAX_CA_FILE_BYTES = 64 * 1024;

/** Compiled patterns by source, shared by the sites built with it. */
export type Patterns = Map<string, RE2JS>;

/** A site built, with what the rules of the keys other rooms parse need to know of it. */
export interface BuiltSite {
  /** Its index in the file's `sites`. */
  readonly index: number;
  readonly site: SiteConfig;
  /**
   * Its timeout as messages show it; `null` when its interval or timeout has a problem of its
   * own, so that no rule may compare anything with it.
   */
  readonly timeoutShown: string | null;
}

/** Where a sites file's files are, where its problems go, and its data as written. */
export interface FileContext extends ProblemContext {
  readonly baseDir: string;
}

/**
 * Applies defaults and checks the rules that span keys or sites, reporting each problem.
 *
 * @param file The file's keys, validated (or those of them without a problem of their own).
 * @param context Where problems go, the data as written (for messages and the URLs results
 *   record), where relative paths start; `compiled`, patterns to share; for the parts of a file
 *   with problems, the index of each site in the file and the keys left out (formatted), which
 *   no rule across keys may read.
 * @returns The sites.
 */
export function buildSites(
  file: SiteKeys,
  context: FileContext & {
    readonly compiled?: Patterns;
    readonly indexes?: readonly number[];
    readonly pruned?: ReadonlySet<string>;
  },
): BuiltSite[] {
  const { report } = context;
  const shown = (path: KeyPath, used: string) => shownValue(context.written, path, used);
  const defaults: SiteOptions = file.defaults ?? {};
  checkStatusRanges(defaults, ["defaults"], context);
  const defaultCa = readCaFile(defaults.ca_file, ["defaults", "ca_file"], context);
  const firstIndexById = new Map<string, number>();
  // One compiled expression per distinct pattern: thousands of sites often share one, and each
  // compilation costs memory (a compiled RE2JS is immutable, so sharing it is safe).
  const compiled = context.compiled ?? new Map<string, RE2JS>();
  const compile = (source: string) =>
    compiled.get(source) ?? compiled.set(source, RE2JS.compile(source)).get(source)!;

  const pruned = context.pruned ?? new Set<string>();
  return file.sites.map((site, position) => {
    const index = context.indexes?.[position] ?? position;
    const at = (key: string): KeyPath => ["sites", index, key];
    // Whether the keys are as written: one left out for a problem of its own has no known value,
    // and its default would make up problems.
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
    checkStatusRanges(site, ["sites", index], context);
    // Where a key's value comes from: the site, or else the defaults.
    const from = (key: keyof SiteOptions): KeyPath =>
      site[key] !== undefined ? at(key) : ["defaults", key];

    const intervalMs = durationMs(site.interval ?? defaults.interval) ?? DEFAULTS.intervalMs;
    // Unset, the timeout is 10 s or the interval if that is shorter.
    const timeoutMs = durationMs(site.timeout ?? defaults.timeout) ??
      Math.min(DEFAULTS.timeoutMs, intervalMs);
    const timing = known("interval", "timeout");
    if (timeoutMs > intervalMs && timing) {
      const path = site.timeout !== undefined
        ? at("timeout")
        : site.interval !== undefined
        ? at("interval")
        : ["defaults", "timeout"];
      const timeout = shown(from("timeout"), formatDuration(timeoutMs));
      const interval = shown(from("interval"), formatDuration(intervalMs));
      report(
        path,
        `timeout ${timeout} is longer than the interval ${interval}: a check must end before the next one is due`,
      );
    }
    const method = site.method ?? defaults.method ?? DEFAULTS.method;
    if (site.body !== undefined && (method === "GET" || method === "HEAD") && known("method")) {
      report(
        at("body"),
        `cannot be sent with method ${
          shown(from("method"), method)
        }: set method to POST or another`,
      );
    }
    const redirects = site.follow_redirects ?? defaults.follow_redirects ?? true;
    // One from a reference is recorded as written: what that stands for may be a secret.
    const recorded = site.pattern === undefined ? null : patternSource(
      typeof site.pattern === "string"
        ? shown(at("pattern"), site.pattern)
        : { ...site.pattern, regex: shown([...at("pattern"), "regex"], site.pattern.regex) },
    );
    // (References can make it longer as written than as used, and results carry it.)
    if (recorded !== null && recorded.length > MAX_PATTERN_SOURCE_CHARS) {
      report(at("pattern"), `must be at most ${LIMITS.maxPatternChars} characters as written`);
    }
    const urlWritten = valueAt(context.written, at("url"));
    const built: SiteConfig = {
      id: site.id,
      name: site.name ?? site.id,
      url: site.url,
      urlAsWritten: recordedUrl(typeof urlWritten === "string" ? urlWritten : site.url, site.url),
      method,
      headers: { ...defaults.headers, ...site.headers },
      forwardHeadersOnRedirect:
        (site.forward_headers_on_redirect ?? defaults.forward_headers_on_redirect ?? [])
          .map((name) => name.toLowerCase()),
      body: site.body ?? null,
      intervalMs,
      timeoutMs,
      expectStatus: (site.expect_status ?? defaults.expect_status)?.map(statusRange) ??
        DEFAULTS.expectStatus,
      pattern: site.pattern === undefined || recorded === null
        ? null
        : { source: recorded, regex: compile(patternSource(site.pattern)) },
      maxRedirects: redirects === true
        ? DEFAULTS.maxRedirects
        : redirects === false
        ? 0
        : redirects,
      maxBodyBytes: site.max_body_bytes ?? defaults.max_body_bytes ?? DEFAULTS.maxBodyBytes,
      tlsVerify: site.tls_verify ?? defaults.tls_verify ?? true,
      caCert: site.ca_file === undefined
        ? defaultCa
        : readCaFile(site.ca_file, at("ca_file"), context),
      certMinDays: site.cert_min_days ?? defaults.cert_min_days ?? null,
    };
    const timeoutShown = timing ? shown(from("timeout"), formatDuration(timeoutMs)) : null;
    return { index, site: built, timeoutShown };
  });
}

function checkStatusRanges(
  options: SiteOptions | SiteEntry,
  at: KeyPath,
  { report, written }: FileContext,
): void {
  options.expect_status?.forEach((entry, index) => {
    const path = [...at, "expect_status", index];
    const [from, to] = statusRange(entry);
    if (from > to) report(path, `"${shownValue(written, path, String(entry))}" is an empty range`);
  });
}

/**
 * Reads a CA file named at `at`: its certificates (only those: a site's go on the sites topic),
 * or null, with the problem reported, when it has none or cannot be read.
 *
 * @param path As written, relative to the sites file.
 * @param at Its key path.
 * @param context Where the sites file is, and where problems go.
 * @returns PEM text, or null.
 */
export function readCaFile(
  path: string | undefined,
  at: KeyPath,
  context: FileContext,
): string | null {
  if (path === undefined) return null;
  const { report } = context;
  const resolved = isAbsolute(path) ? path : join(context.baseDir, path);
  const shown = quoted(shownValue(context.written, at, path));
  const tooBig = caFileSizeProblem(resolved);
  if (tooBig !== null) {
    report(at, `${shown} ${tooBig}`);
    return null;
  }
  try {
    const certificates = caCertificates(Deno.readTextFileSync(resolved));
    if ("pem" in certificates) return certificates.pem;
    report(at, `${shown} ${certificates.problem}`);
  } catch (error) {
    // Deno's message without the "(os error 2): readfile '…'" that repeats the path as resolved.
    const reason = printable((error as Error).message.replace(/ \(os error \d+\).*$/s, ""));
    report(at, `${shown} cannot be read: ${reason}`);
  }
  return null;
}

/** Why the file cannot be a CA file by its size, if it cannot; reading it says what else is wrong. */
function caFileSizeProblem(resolved: string): string | null {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(resolved);
  } catch {
    return null;
  }
  if (!info.isFile) return "is not a file";
  if (info.size <= MAX_CA_FILE_BYTES) return null;
  return `is ${info.size} bytes: a CA file may hold at most ${MAX_CA_FILE_BYTES} bytes (64 KiB) of PEM certificates`;
}

function durationMs(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDurationMs(text);
}

/**
 * The URL results record: as written, references unresolved, when that reads as a URL (each
 * reference standing for a word); otherwise, when a reference stands for the scheme or the host and
 * port, the resolved origin alone (with `/…` for a path: it may hold a token).
 */
function recordedUrl(written: string, resolved: string): string {
  if (URL.canParse(interpolateEnv(written, EVERY_NAME_A_WORD, () => {}) as string)) return written;
  const url = new URL(resolved);
  return url.pathname === "/" ? `${url.origin}/` : `${url.origin}/…`;
}
