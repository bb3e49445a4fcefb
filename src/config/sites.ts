/**
 * The sites file: which websites to check and how. YAML → unknown → zod → readonly
 * {@link SiteConfig} values, with every problem reported at once, by file, line and key path.
 *
 * @module
 */
import { RE2JS } from "re2js";
import { z } from "zod";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { formatDuration, parseDurationMs } from "./duration.ts";
import { formatKeyPath, type KeyPath, parseYaml, type YamlSource } from "./yaml_source.ts";

/** Bounds that keep a typo from hammering a site or starving the scheduler. */
export const LIMITS = {
  minIntervalMs: 5_000,
  maxIntervalMs: 24 * 3_600_000,
  minTimeoutMs: 100,
} as const;

/** Defaults for keys that neither a site nor the `defaults` block sets. */
export const DEFAULTS = {
  intervalMs: 60_000,
  timeoutMs: 10_000,
  maxBodyBytes: 1024 * 1024,
  maxRedirects: 10,
} as const;

/** A regular expression compiled by the linear-time engine. */
export interface SitePattern {
  /** The pattern as written. */
  readonly source: string;
  /** The compiled expression; `test()` runs in time linear in the input. */
  readonly regex: RE2JS;
}

/** One site to check, with every default applied. */
export interface SiteConfig {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly pattern: SitePattern | null;
  readonly maxBodyBytes: number;
  readonly maxRedirects: number;
}

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const DURATION_HINT = 'must be a duration such as "30s", "5m" or "500ms"';

function duration(minMs: number, maxMs: number) {
  return z.string({ error: DURATION_HINT })
    .regex(DURATION, { error: DURATION_HINT })
    // A text that is not a duration has its own message already.
    .refine((text) => (parseDurationMs(text) ?? minMs) >= minMs, {
      error: `must be at least ${formatDuration(minMs)}`,
    })
    .refine((text) => (parseDurationMs(text) ?? maxMs) <= maxMs, {
      error: `must be at most ${formatDuration(maxMs)}`,
    });
}

const siteOptions = {
  interval: duration(LIMITS.minIntervalMs, LIMITS.maxIntervalMs)
    .describe("How often the site is checked, for example 30s or 5m").optional(),
  timeout: duration(LIMITS.minTimeoutMs, LIMITS.maxIntervalMs)
    .describe("How long one check may take, body included").optional(),
};

/** The sites file as written; its JSON Schema is `schema/sites.json`. */
export const sitesFileSchema = z.strictObject({
  defaults: z.strictObject(siteOptions).describe("Values for keys that a site leaves out")
    .optional(),
  sites: z.array(
    z.strictObject({
      id: z.string({ error: "is required: a short unique name for the site" })
        .regex(SITE_ID, { error: 'must be 1 to 64 letters, digits, ".", "_" or "-"' })
        .describe("Unique id of the site; the Kafka message key"),
      name: z.string({ error: "must be a string" }).min(1).describe(
        "Display name; defaults to the id",
      ).optional(),
      url: z.url({
        protocol: /^https?$/,
        hostname: z.regexes.hostname,
        error: "must be an absolute http(s) URL",
      })
        .describe("The address to request"),
      pattern: z.string({ error: "must be a regular expression in a string" }).check(
        checkPattern,
      ).describe(
        "A regular expression (RE2 syntax) the body must contain; (?i) makes it case-insensitive",
      ).optional(),
      ...siteOptions,
    }),
    { error: "must be a list of sites" },
  ).min(1, { error: "must list at least one site" }).describe("The websites to check"),
}).describe("website-monitor sites file");

type SitesFile = z.infer<typeof sitesFileSchema>;

/**
 * Reads and validates a sites file.
 *
 * @param path The file to read.
 * @returns The sites, with defaults applied.
 * @throws {ConfigError} Listing every problem, when the file cannot be read or is invalid.
 *
 * @example
 * ```ts ignore
 * import { loadSites } from "./sites.ts";
 * const sites = await loadSites("sites.example.yaml");
 * ```
 */
export async function loadSites(path: string): Promise<readonly SiteConfig[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "does not exist" : String(error);
    throw new ConfigError([{ file: path, path: "", message: `cannot be read: ${reason}` }]);
  }
  return parseSites(text, path);
}

/**
 * Validates the text of a sites file.
 *
 * @param text YAML.
 * @param file The file name used in messages.
 * @returns The sites, with defaults applied.
 * @throws {ConfigError} Listing every problem.
 */
export function parseSites(text: string, file: string): readonly SiteConfig[] {
  const source = parseYaml(text, file);
  if (source.problems.length > 0) throw new ConfigError(source.problems);

  const parsed = sitesFileSchema.safeParse(source.data ?? {});
  if (!parsed.success) {
    throw new ConfigError(sortByLine(parsed.error.issues.flatMap((i) => fromIssue(source, i))));
  }
  const problems: ConfigProblem[] = [];
  const sites = buildSites(parsed.data, (path, message) => {
    problems.push(problemAt(source, path, message));
  });
  if (problems.length > 0) throw new ConfigError(sortByLine(unique(problems)));
  return sites;
}

type Report = (path: KeyPath, message: string) => void;

/** Applies defaults and checks the rules that span fields or sites. */
function buildSites(file: SitesFile, report: Report): SiteConfig[] {
  const defaultIntervalMs = optionalDurationMs(file.defaults?.interval) ?? DEFAULTS.intervalMs;
  const defaultTimeoutMs = optionalDurationMs(file.defaults?.timeout) ?? DEFAULTS.timeoutMs;
  const firstIndexById = new Map<string, number>();

  return file.sites.map((site, index) => {
    const at = (key: string): KeyPath => ["sites", index, key];
    const seenAt = firstIndexById.get(site.id);
    if (seenAt === undefined) firstIndexById.set(site.id, index);
    else report(at("id"), `"${site.id}" is already the id of sites[${seenAt}]: ids must be unique`);

    const intervalMs = optionalDurationMs(site.interval) ?? defaultIntervalMs;
    const timeoutMs = optionalDurationMs(site.timeout) ?? defaultTimeoutMs;
    if (timeoutMs > intervalMs) {
      const path = site.timeout !== undefined
        ? at("timeout")
        : site.interval !== undefined
        ? at("interval")
        : ["defaults", "timeout"];
      report(
        path,
        `timeout ${formatDuration(timeoutMs)} is longer than the interval ${
          formatDuration(intervalMs)
        }: a check must end before the next one is due`,
      );
    }
    return {
      id: site.id,
      name: site.name ?? site.id,
      url: site.url,
      intervalMs,
      timeoutMs,
      pattern: site.pattern === undefined
        ? null
        : { source: site.pattern, regex: RE2JS.compile(site.pattern) },
      maxBodyBytes: DEFAULTS.maxBodyBytes,
      maxRedirects: DEFAULTS.maxRedirects,
    };
  });
}

function optionalDurationMs(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDurationMs(text);
}

/** Rejects what the linear-time engine cannot compile, with the position of the fault. */
function checkPattern(context: z.core.ParsePayload<string>): void {
  const source = context.value;
  try {
    RE2JS.compile(source);
  } catch (error) {
    // re2js ends its message with the offending fragment in backquotes; its offset is the position.
    const detail = error instanceof Error
      ? error.message.replace(/^error parsing regexp: /, "")
      : "";
    const fragment = /`([^`]*)`$/.exec(detail)?.[1];
    const position = fragment === undefined ? -1 : source.indexOf(fragment);
    const at = position < 0 ? "" : ` at position ${position + 1}`;
    context.issues.push({
      code: "custom",
      input: source,
      message: `is not a valid RE2 regular expression${at}: ${detail}`,
    });
  }
}

function fromIssue(source: YamlSource, issue: z.core.$ZodIssue): ConfigProblem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) =>
      problemAt(source, [...issue.path, key], `is not a known key: remove it or check its spelling`)
    );
  }
  const value = valueAt(source.data, issue.path);
  const message = value === undefined && issue.code === "invalid_type"
    ? "is required"
    : typeof value === "string" && !issue.message.includes(value)
    ? `${issue.message}: current value is "${value}"`
    : issue.message;
  return [problemAt(source, issue.path, message)];
}

function problemAt(source: YamlSource, path: KeyPath, message: string): ConfigProblem {
  const line = source.lineOf(path);
  const where = { file: source.file, path: formatKeyPath(path), message };
  return line === undefined ? where : { ...where, line };
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Several sites can share one bad default; it is reported once. */
function unique(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function sortByLine(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.toSorted((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
