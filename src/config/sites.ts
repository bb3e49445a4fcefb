/**
 * The sites file: which websites to check and how, and when to alert whom. YAML → unknown → zod →
 * readonly {@link SiteConfig} values (and, for the alerter, {@link AlertConfig}), with every
 * problem reported at once, by file, line and key path.
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { RE2JS } from "re2js";
import type { z } from "zod";
import { type ChannelConfig, resolveChannel } from "../alert/channels/config.ts";
import { type AlertRule, resolveAlertRule } from "../alert/rules.ts";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { formatDuration, parseDurationMs } from "./duration.ts";
import { interpolateEnv } from "./interpolate.ts";
import { caCertificates } from "./pem.ts";
import { readTextFileAtMost } from "./text_file.ts";
import {
  LIMITS,
  MAX_PATTERN_SOURCE_CHARS,
  type METHODS,
  patternSource,
  type SiteEntry,
  type SiteOptions,
  type SitesFile,
  sitesFileSchema,
  statusRange,
} from "./sites_schema.ts";
import { formatKeyPath, type KeyPath, parseYaml } from "./yaml_source.ts";
import {
  fromIssue,
  isChannelValue,
  issueMessage,
  problemAt,
  quoteValue,
  shownValue,
  sortByLine,
  typedIssues,
  unique,
} from "./sites_problems.ts";
import { printable } from "../text.ts";

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
  /** When its incidents open and resolve, and which channels they notify; defaults applied. */
  readonly alert: AlertRule;
}

/** A sites file as the alerter reads it: the sites and the channels they notify. */
export interface AlertConfig {
  readonly sites: readonly SiteConfig[];
  /** The `channels` map, `${NAME}` references resolved, by name, in the file's order. */
  readonly channels: ReadonlyMap<string, ChannelConfig>;
}

/**
 * Reads and validates a sites file, as {@link parseSites} does.
 *
 * @param path The file to read.
 * @param env For `${NAME}` references; defaults to the process environment.
 * @returns The sites, with defaults applied.
 * @throws {ConfigError} Listing every problem, when the file cannot be read or is invalid.
 *
 * @example
 * ```ts ignore
 * import { loadSites } from "./sites.ts";
 * const sites = await loadSites("sites.example.yaml");
 * ```
 */
export async function loadSites(
  path: string,
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
): Promise<readonly SiteConfig[]> {
  const text = await readTextFileAtMost(path, MAX_SITES_FILE_BYTES, "is it a sites file?");
  return parseSites(text, path, env);
}

/**
 * Reads and validates a sites file as {@link loadSites} does, and resolves its `channels` map too.
 *
 * @param path The file to read.
 * @param env For `${NAME}` references; defaults to the process environment.
 * @returns The sites, each with its alert rule, and the channels.
 * @throws {ConfigError} Listing every problem, when the file cannot be read or is invalid.
 *
 * @example
 * ```ts ignore
 * import { loadAlertConfig } from "./sites.ts";
 * const { sites, channels } = await loadAlertConfig("sites.yaml");
 * ```
 */
export async function loadAlertConfig(
  path: string,
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
): Promise<AlertConfig> {
  const text = await readTextFileAtMost(path, MAX_SITES_FILE_BYTES, "is it a sites file?");
  return parseAlertConfig(text, path, env);
}

/**
 * Validates the text of a sites file as {@link parseSites} does, and resolves its `channels` map
 * too: a site's `alert.channels` must name channels of the map.
 *
 * @param text YAML.
 * @param file The file name used in messages.
 * @param env For `${NAME}` references.
 * @returns The sites, each with its alert rule, and the channels.
 * @throws {ConfigError} Listing every problem; an unset variable is named, never a value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAlertConfig } from "./sites.ts";
 * const text = `channels:
 *   team: { type: slack, url: "\${SLACK_URL}" }
 * defaults:
 *   alert: { failure_threshold: 2, channels: [team] }
 * sites:
 *   - id: a
 *     url: https://a.example/
 *     alert: { regions: majority }
 * `;
 * const { sites, channels } = parseAlertConfig(text, "sites.yaml", {
 *   SLACK_URL: "https://hooks.slack.com/services/T/B/x",
 * });
 * assert.equal(sites[0]?.alert.failureThreshold, 2);
 * assert.equal(sites[0]?.alert.regions, "majority");
 * assert.deepEqual(sites[0]?.alert.channels, ["team"]);
 * assert.equal(channels.get("team")?.type, "slack");
 * ```
 */
export function parseAlertConfig(
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>> = {},
): AlertConfig {
  const { sites, channels } = validate(text, file, env, "all");
  return { sites, channels };
}

/** Room for tens of thousands of sites; a bigger file is a mistake (or `/dev/zero`). */
export const MAX_SITES_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Room for a chain of a few dozen PEM certificates: each site's message on the sites topic
 * carries its CA file whole, and a message must stay well under a broker's 1 MB.
 */
export const MAX_CA_FILE_BYTES = 64 * 1024;

/**
 * Validates the text of a sites file. Its `channels` are checked, but their `${NAME}` references
 * are not resolved nor their files read: they are the alerter's ({@link parseAlertConfig}), and a
 * checker need not have its secrets.
 *
 * @param text YAML.
 * @param file The file name used in messages.
 * @param env For `${NAME}` references.
 * @returns The sites, with defaults applied.
 * @throws {ConfigError} Listing every problem.
 */
export function parseSites(
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>> = {},
): readonly SiteConfig[] {
  return validate(text, file, env).sites;
}

/** A sites file as written, `${NAME}` references kept, with the sites it describes. */
export interface SitesAsWritten {
  /** The file's data as written: references unresolved, `$${` not yet a `${`. */
  readonly file: SitesFile;
  /**
   * Its sites, defaults applied, as checked: each reference stood for a {@link REFERENCE_WORD}.
   * Their CA certificates are the files' contents; their other text is not for use.
   */
  readonly sites: readonly SiteConfig[];
}

/**
 * What a `${NAME}` stands for when a file is checked without resolving its references: a word
 * that fits in a host name, a path, a query or a header.
 */
export const REFERENCE_WORD = "x";

/**
 * Reads and validates a sites file as {@link parseSitesAsWritten} does.
 *
 * @param path The file to read.
 * @returns The file as written, and its sites.
 * @throws {ConfigError} Listing every problem, when the file cannot be read or is invalid.
 *
 * @example
 * ```ts ignore
 * import { loadSitesAsWritten } from "./sites.ts";
 * const { file } = await loadSitesAsWritten("sites.yaml");
 * ```
 */
export async function loadSitesAsWritten(path: string): Promise<SitesAsWritten> {
  const text = await readTextFileAtMost(path, MAX_SITES_FILE_BYTES, "is it a sites file?");
  return parseSitesAsWritten(text, path);
}

/**
 * Validates the text of a sites file as {@link parseSites} does, every rule and every problem,
 * but without resolving `${NAME}` references: each one is checked as the {@link REFERENCE_WORD}
 * (so it can stand for part of a value, not for all of a URL or a duration), and the data is
 * returned as written, for a checker elsewhere to resolve from its own environment. The
 * `channels` are checked as {@link parseSites} checks them: a value that holds a reference, for its
 * type only (it may stand for all of a URL or a secret; channels are not published).
 *
 * @param text YAML.
 * @param file The file name used in messages.
 * @returns The file as written, and its sites.
 * @throws {ConfigError} Listing every problem; one whose value holds a reference says how it was
 *   checked; an `id` may hold none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSitesAsWritten } from "./sites.ts";
 * const text = "sites:\n  - id: a\n    url: https://${SITE_HOST}/\n";
 * const { file, sites } = parseSitesAsWritten(text, "sites.yaml");
 * assert.equal(file.sites[0]?.url, "https://${SITE_HOST}/");
 * assert.equal(sites[0]?.url, "https://x/");
 * ```
 */
export function parseSitesAsWritten(text: string, file: string): SitesAsWritten {
  const { data, sites } = validate(text, file, {}, "none");
  // Resolving replaced text inside strings only: the data has the shape that was validated.
  return { file: data as SitesFile, sites };
}

/** An environment where every name is set, to the same word. */
const WORDS = new Proxy({}, { get: () => REFERENCE_WORD }) as Readonly<Record<string, string>>;

/**
 * Which `${NAME}` references {@link validate} resolves: `all`, those of the sites but not of the
 * channels (which only the alerter needs, so checkers need not have their secrets), or `none`
 * (each is read as the {@link REFERENCE_WORD}).
 */
type Resolve = "all" | "sites" | "none";

/** Parses, resolves references with `env`, validates; `data` is the file as written. */
function validate(
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
  resolve: Resolve = "sites",
): { data: unknown; sites: SiteConfig[]; channels: Map<string, ChannelConfig> } {
  const source = parseYaml(text, file);
  if (source.problems.length > 0) throw new ConfigError(source.problems);

  const root = source.data;
  if (root !== undefined && root !== null && (typeof root !== "object" || Array.isArray(root))) {
    const what = Array.isArray(root) ? "a list" : `${quoteValue(root)}`;
    const message = `must be a mapping with a "sites" list: it is ${what}`;
    throw new ConfigError([problemAt(source, [], message)]);
  }

  const problems: ConfigProblem[] = [];
  const report: Report = (path, message) => problems.push(problemAt(source, path, message));
  const { channels: channelsWritten, ...rest } = (root ?? {}) as Record<string, unknown>;
  const referenced = resolve === "all"
    ? new Set<string>()
    : referencedPaths(resolve === "none" ? root : { channels: channelsWritten });
  const fail = (found: ConfigProblem[]) =>
    new ConfigError(sortByLine(found).map((p) => withReferenceHint(p, referenced)));
  for (const path of referenced) {
    const index = /^sites\[(\d+)\]\.id$/.exec(path)?.[1];
    if (index !== undefined) report(["sites", Number(index), "id"], ID_REFERENCE);
  }
  // Checkers of the sites topic resolve SITE_* names only: a site that names another one would
  // fail on every check, so it is not published.
  if (resolve === "none") {
    interpolateEnv(rest, {}, (path, _message, name) => {
      const isId = path.length === 3 && path[0] === "sites" && path[2] === "id";
      if (!SITE_VARIABLE.test(name) && !isId) report(path, notSiteVariable(name));
    });
  }
  const unset = new Set<string>();
  const interpolate = (value: unknown, names: Readonly<Record<string, string | undefined>>) =>
    interpolateEnv(value, names, (path, message) => {
      unset.add(formatKeyPath(path));
      report(path, message);
    }) as Record<string, unknown>;
  const data = {
    ...interpolate(rest, resolve === "none" ? WORDS : env),
    ...(channelsWritten === undefined
      ? {}
      : interpolate({ channels: channelsWritten }, resolve === "all" ? env : WORDS)),
  };
  const parsed = sitesFileSchema.safeParse(data);
  const issues = parsed.success ? [] : parsed.error.issues.flatMap(typedIssues);
  // Channels are not published: the alerter resolves their references, and one may stand for all
  // of a URL or a secret. Checked as written, such a value is checked for its type only.
  const problemsOfIssues = issues.filter((issue) =>
    !(referenced.has(formatKeyPath(issue.path)) && isChannelText(issue))
  );
  // A value that failed to resolve is reported once, as unset, not again as malformed.
  const kept = problemsOfIssues.filter((issue) => !unset.has(formatKeyPath(issue.path)));
  problems.push(...kept.flatMap((issue) => fromIssue(source, issue)));
  const files = { report, baseDir: dirname(file), written: root };
  const sitesWritten = (root as { readonly sites?: unknown } | null | undefined)?.sites;
  const urls = Array.isArray(sitesWritten) ? sitesWritten.map((site) => String(site?.url)) : [];
  const channelOptions = {
    report,
    // Files, like secrets, are the alerter's to have.
    readCaFile: (path: string, at: KeyPath) =>
      resolve === "all" ? readCaFile(path, at, files) : null,
  };
  // (Text of a channel that a reference stands for leaves the data with the schema's shape.)
  if (problemsOfIssues.length === 0) {
    const valid = parsed.success ? parsed.data : data as SitesFile;
    const sites = buildSites(valid, urls, files);
    const channels = resolveChannels(valid, channelOptions);
    if (problems.length > 0) throw fail(unique(problems));
    return { data: root ?? {}, sites, channels };
  }
  // The rules across keys are checked all the same, on the keys without a problem of their own:
  // every problem is reported at once.
  const parts = usableParts(data, problemsOfIssues);
  if (parts !== null) {
    buildSites(parts.file, urls, { ...files, ...parts.context });
    resolveChannels(parts.file, channelOptions);
  }
  throw fail(unique(problems));
}

/**
 * The parts of a file with problems that have none of their own, for the rules across keys:
 * each site's and the defaults' keys without a problem (a site that is no map or whose id has one
 * left out), and the channels without one. `null` when there is no list of sites or map of
 * channels to check.
 */
function usableParts(data: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]) {
  const pruned = new Set<string>();
  for (const issue of issues) {
    const paths = issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => [...issue.path, key])
      : [issue.path];
    for (const path of paths) {
      // A key of a site, of the defaults or of the channels map; or one of those three whole.
      const entry = path.slice(0, path[0] === "sites" ? 3 : 2);
      if (entry.length < 2 && (entry[0] === "sites" || entry[0] === "channels")) return null;
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
    channels: without(data.channels, ["channels"]),
  } as SitesFile;
  const context = {
    pruned,
    indexes: sites.map(({ index }) => index),
    // A channel with a problem is still a channel: naming it is no problem.
    channelNames: new Set(Object.keys(data.channels ?? {})),
  };
  return { file, context };
}

/** The `channels` map, resolved, in the file's order. */
function resolveChannels(
  file: SitesFile,
  context: {
    readonly report: Report;
    readonly readCaFile: (path: string, at: KeyPath) => string | null;
  },
): Map<string, ChannelConfig> {
  return new Map(
    Object.entries(file.channels ?? {}).map((
      [name, entry],
    ) => [name, resolveChannel(name, entry, { ...context, at: ["channels", name] })]),
  );
}

/** An issue with a channel's text value (its URL, secret, address) but its type. */
function isChannelText(issue: z.core.$ZodIssue): boolean {
  return isChannelValue(issue.path) && issue.code !== "invalid_type";
}

const ID_REFERENCE =
  "cannot hold a ${NAME} reference here: the id is the site's key on the sites topic; write it out";

/** Why a site on the sites topic cannot refer to `name`. */
function notSiteVariable(name: string): string {
  return `refers to \${${name}}: checkers of the sites topic resolve only SITE_* variables`;
}

/** The key paths (as formatted) of the values that hold a `${NAME}` reference. */
function referencedPaths(root: unknown): Set<string> {
  const paths = new Set<string>();
  // Against an empty environment, every reference is reported, with its path.
  interpolateEnv(root ?? {}, {}, (path) => paths.add(formatKeyPath(path)));
  return paths;
}

function withReferenceHint(problem: ConfigProblem, referenced: ReadonlySet<string>): ConfigProblem {
  // (A problem with the reference itself needs no hint.)
  const aboutReference = problem.message === ID_REFERENCE ||
    problem.message.startsWith("refers to ${");
  if (!referenced.has(problem.path) || aboutReference) return problem;
  // What is left of a channel's value is its type or its type of channel (see validate()).
  const hint = problem.path.startsWith("channels.")
    ? "a ${NAME} reference stands for text: write this value out"
    : `each \${NAME} was read as the word "${REFERENCE_WORD}": checkers resolve references, so one may stand for part of this value, not for all of it`;
  return { ...problem, message: `${problem.message} (${hint})` };
}

type Report = (path: KeyPath, message: string) => void;

/** Compiled patterns by source, shared by the sites built with it. */
export type Patterns = Map<string, RE2JS>;

/**
 * Where a sites file's files are, and its data as written (messages show a value that holds a
 * `${NAME}` reference as written: what the reference stands for may be a secret).
 */
interface FileContext {
  readonly report: Report;
  readonly baseDir: string;
  readonly written: unknown;
}

/** Applies defaults and checks the rules that span fields or sites. */
function buildSites(
  file: SitesFile,
  urlsAsWritten: readonly string[],
  context: FileContext & {
    readonly compiled?: Patterns;
    /** The channels a site may name; the file's `channels` map unless told. */
    readonly channelNames?: ReadonlySet<string>;
    /** For the parts of a file with problems: the index of each site in the file. */
    readonly indexes?: readonly number[];
    /** The keys left out of those parts (formatted), which no rule across keys may read. */
    readonly pruned?: ReadonlySet<string>;
  },
): SiteConfig[] {
  const { report } = context;
  const shown = (path: KeyPath, used: string) => shownValue(context.written, path, used);
  const defaults: SiteOptions = file.defaults ?? {};
  const channelNames = context.channelNames ?? new Set(Object.keys(file.channels ?? {}));
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
    const known = (...keys: (keyof SiteOptions)[]) =>
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
    return {
      id: site.id,
      name: site.name ?? site.id,
      url: site.url,
      urlAsWritten: recordedUrl(urlsAsWritten[index] ?? site.url, site.url),
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
      alert: resolveAlertRule(
        known("alert")
          ? { defaults: defaults.alert, site: site.alert, siteAt: at("alert") }
          : { siteAt: at("alert") },
        {
          intervalMs,
          // (An unknown timeout: no response time is compared with it.)
          timeoutMs: timing ? timeoutMs : Infinity,
          channelNames,
          shown,
          timeoutShown: shown(from("timeout"), formatDuration(timeoutMs)),
        },
        report,
      ),
    };
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

/** The certificates of a CA file (only those: its text goes on the sites topic), or null. */
function readCaFile(path: string | undefined, at: KeyPath, context: FileContext): string | null {
  if (path === undefined) return null;
  const { report } = context;
  const resolved = isAbsolute(path) ? path : join(context.baseDir, path);
  const shown = quoteValue(shownValue(context.written, at, path));
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

/** A `${NAME}` reference (`$${` writes a literal `${`). */
const REFERENCE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;

/**
 * The URL results record: as written, references unresolved, when that reads as a URL (each
 * reference standing for a word); otherwise, when a reference stands for the scheme or the host and
 * port, the resolved origin alone (with `/…` for a path: it may hold a token).
 */
function recordedUrl(written: string, resolved: string): string {
  if (URL.canParse(written.replaceAll(REFERENCE, "x"))) return written;
  const url = new URL(resolved);
  return url.pathname === "/" ? `${url.origin}/` : `${url.origin}/…`;
}

/**
 * The environment variables a checker of the sites topic resolves: whoever can write to the topic
 * chooses the names, so only those meant for sites, never the checker's own settings and secrets.
 */
export const SITE_VARIABLE = /^SITE_[A-Za-z0-9_]*$/;

/** One site of the sites topic as a checker sees it: the site to check, or why it cannot. */
export type ResolvedSite =
  | { readonly site: SiteConfig }
  | { readonly problems: readonly string[] };

/**
 * Resolves one site as the sites topic carries it (a sites file's entry with the defaults merged
 * in, `${NAME}` references as written) with this checker's environment, and validates it as a
 * sites file's site is validated. Never throws: a site this checker cannot check is data.
 *
 * @param entry The site's keys, but `ca_cert`.
 * @param caCert Its CA certificate(s), PEM, or `null` for the system's; one with a private key in
 *   it is a problem, and only its certificates are used.
 * @param options `env` for references; `patterns`, compiled patterns to share between sites.
 * @returns The site, or its problems, each `key: what is wrong` (a value that holds a reference is
 *   quoted as written: what the environment gives may be a secret).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveSite } from "./sites.ts";
 * const entry = { id: "a", url: "https://${SITE_HOST}/", interval: "30s" };
 * const resolved = resolveSite(entry, null, { env: { SITE_HOST: "a.example" } });
 * assert.equal("site" in resolved && resolved.site.url, "https://a.example/");
 * assert.deepEqual(resolveSite(entry, null, { env: {} }), {
 *   problems: ["url: refers to ${SITE_HOST}, which is not set in the environment"],
 * });
 * ```
 */
export function resolveSite(
  entry: Readonly<Record<string, unknown>>,
  caCert: string | null,
  options: {
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly patterns?: Patterns;
  },
): ResolvedSite {
  const problems: string[] = [];
  // Paths are the site's own keys: the entry sits at sites[0].
  const written = { sites: [entry] };
  const report: Report = (path, message) =>
    problems.push(`${formatKeyPath(path.slice(2))}: ${message}`);
  // Names the checker does not give out are refused before anything is resolved.
  interpolateEnv(written, {}, (path, _message, name) => {
    if (!SITE_VARIABLE.test(name)) report(path, notSiteVariable(name));
  });
  if (problems.length > 0) return { problems };
  const data = interpolateEnv(written, options.env, report);
  // A value that failed to resolve is reported once, as unset, not again as malformed.
  if (problems.length > 0) return { problems };
  const parsed = sitesFileSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues.flatMap(typedIssues)) {
      report(issue.path as KeyPath, issueMessage(issue, written));
    }
    return { problems };
  }
  const context = {
    report,
    baseDir: ".",
    written,
    ...(options.patterns === undefined ? {} : { compiled: options.patterns }),
    // The channels map is the alerter's, not on the topic: a checker takes the names as given.
    channelNames: new Set(parsed.data.sites[0]?.alert?.channels),
  };
  const [site] = buildSites(parsed.data, [String(entry.url)], context);
  // Whatever wrote the message, a private key is not used (nor is anything but certificates).
  const certificates = caCert === null ? { pem: null } : caCertificates(caCert);
  if ("problem" in certificates) report(["sites", 0, "ca_cert"], certificates.problem);
  if ("problem" in certificates || problems.length > 0 || site === undefined) {
    return { problems: [...new Set(problems)] };
  }
  return { site: { ...site, caCert: certificates.pem } };
}
