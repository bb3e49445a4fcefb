/**
 * A sites file read: YAML → `${NAME}` references resolved → the schema of the sites' keys →
 * readonly {@link SiteConfig} values, each problem reported at its file, line and key path. The
 * keys that alert/ parses (a site's `alert` block, the `channels` map) are handed over with the
 * data and the positions, so that the problems of both are thrown together, at once
 * (`src/sites/file.ts` does that).
 *
 * @module
 */
import { dirname } from "node:path";
import type { z } from "zod";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { interpolateEnv } from "./interpolate.ts";
import { buildSites, type BuiltSite, type FileContext, type Patterns } from "./sites.ts";
import { type SiteKeys, siteKeysSchema } from "./sites_schema.ts";
import { problemAt, type Report, reportIssues } from "./sites_problems.ts";
import { readTextFileAtMost } from "./text_file.ts";
import { formatKeyPath, type KeyPath, parseYaml } from "./yaml_source.ts";
import { quoted } from "../text.ts";

/** Room for tens of thousands of sites; a bigger file is a mistake (or `/dev/zero`). */
export const MAX_SITES_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Reads the text of a sites file, refusing one too big to be one.
 *
 * @param path The file.
 * @returns Its text.
 * @throws {ConfigError} When it cannot be read or is too big.
 */
export function readSitesText(path: string): Promise<string> {
  return readTextFileAtMost(path, MAX_SITES_FILE_BYTES, "is it a sites file?");
}

/** What a sites file read so far holds, for the rooms that parse its other keys. */
export interface SitesFileReading extends FileContext {
  /** The data as written (a mapping; an empty file is an empty one). */
  readonly written: Readonly<Record<string, unknown>>;
  /** The data, references resolved, but for `channels`: the alerter's to resolve. */
  readonly data: Readonly<Record<string, unknown>>;
  /** The sites built: all of them, or when there are problems, those of the usable parts. */
  readonly sites: readonly BuiltSite[];
  /** Every problem reported so far, in the order found. */
  readonly problems: readonly ConfigProblem[];
}

/**
 * Reads the text of a sites file: every problem of the sites' keys is reported, not thrown.
 *
 * @param text YAML.
 * @param file The file name used in messages; relative paths in the file start at its directory.
 * @param options `env` for `${NAME}` references; `refuse`, what a reference that may not be
 *   resolved here is, or `null` for one that may.
 * @returns The reading, its `problems` to throw (with those of the other keys) when there are any.
 * @throws {ConfigError} When the text is not YAML, or not a mapping.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSitesFile } from "./sites_file.ts";
 * const text = "sites:\n  - id: a\n    url: https://${HOST}/\n    interval: 1s\n";
 * const reading = readSitesFile(text, "sites.yaml", { env: { HOST: "a.example" } });
 * assert.deepEqual(reading.problems.map((p) => `${p.line}: ${p.path} ${p.message}`), [
 *   '4: sites[0].interval must be at least 5s: current value is "1s"',
 * ]);
 * ```
 */
export function readSitesFile(
  text: string,
  file: string,
  options: {
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly refuse?: (name: string, path: KeyPath) => string | null;
  },
): SitesFileReading {
  const source = parseYaml(text, file);
  if (source.problems.length > 0) throw new ConfigError(source.problems);
  const root = source.data;
  if (root !== undefined && root !== null && (typeof root !== "object" || Array.isArray(root))) {
    const what = Array.isArray(root) ? "a list" : `${quoted(root)}`;
    const message = `must be a mapping with a "sites" list: it is ${what}`;
    throw new ConfigError([problemAt(source, [], message)]);
  }
  const written = (root ?? {}) as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  const report: Report = (path, message) => problems.push(problemAt(source, path, message));
  // The channels map is left as written: only the alerter needs its secrets.
  const { channels: _, ...rest } = written;
  const { refuse } = options;
  if (refuse !== undefined) {
    interpolateEnv(rest, {}, (path, _message, name) => {
      const why = refuse(name, path);
      if (why !== null) report(path, why);
    });
  }
  const unset = new Set<string>();
  const data = interpolateEnv(rest, options.env, (path, message) => {
    unset.add(formatKeyPath(path));
    report(path, message);
  }) as Record<string, unknown>;
  const context = { report, written, unset, baseDir: dirname(file) };
  return { ...context, data, problems, sites: checkSites(data, context) };
}

/**
 * Validates a sites file's data and builds its sites, reporting every problem: those of single
 * keys and, on the keys without one, those of the rules across keys (so that all are reported at
 * once).
 *
 * @param data The file's data, references resolved.
 * @param context Where problems go and what they may show; `compiled`, patterns to share.
 * @returns The sites: all of them, or when there are problems, those of the usable parts.
 */
export function checkSites(
  data: unknown,
  context: FileContext & { readonly compiled?: Patterns },
): BuiltSite[] {
  const parsed = siteKeysSchema.safeParse(data);
  if (parsed.success) return buildSites(parsed.data, context);
  reportIssues(parsed.error.issues, context);
  const parts = usableParts(data as Record<string, unknown>, parsed.error.issues);
  return parts === null ? [] : buildSites(parts.file, { ...context, ...parts.context });
}

/**
 * The parts of a file with problems that have none of their own, for the rules across keys:
 * each site's and the defaults' keys without a problem (a site that is no map or whose id has one
 * left out). `null` when there is no list of sites to check.
 */
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
