/**
 * The sites file whole: config/ reads the sites' keys, alert/ their `alert` blocks and the
 * `channels` map, and every problem of both is reported at once, by file, line and key path, in
 * the order of the file. A file is read three ways: by a checker ({@link parseSites}), by the
 * alerter, with the channels' secrets ({@link parseAlertConfig}), and as the sites topic
 * publishes it, references unresolved ({@link parseSitesAsWritten}).
 *
 * @module
 */
import type { z } from "zod";
import { type ChannelConfig, channelsSchema, readChannels } from "../alert/channels/config.ts";
import { alertOptionsSchema, type AlertRule, readAlertRules } from "../alert/rules.ts";
import type { ConfigProblem } from "../errors.ts";
import { EVERY_NAME_A_WORD, REFERENCE_WORD, referencedPaths } from "../config/interpolate.ts";
import { readCaFile, type SiteConfig } from "../config/sites.ts";
import { readSitesFile, readSitesText } from "../config/sites_file.ts";
import { sitesFileError } from "../config/sites_problems.ts";
import { sitesFileSchemaWith } from "../config/sites_schema.ts";
import type { KeyPath } from "../config/yaml_source.ts";

/** The sites file as written, every key of it: `schema/sites.json` is generated from it. */
export const sitesFileSchema = sitesFileSchemaWith({
  alert: alertOptionsSchema,
  channels: channelsSchema,
});

/** A parsed sites file. */
export type SitesFile = z.infer<typeof sitesFileSchema>;

/** One site to check, with every default applied, and its alert rule. */
export interface Site extends SiteConfig {
  /** When its incidents open and resolve, and which channels they notify. */
  readonly alert: AlertRule;
}

/** A sites file as the alerter reads it: the sites and the channels they notify. */
export interface AlertConfig {
  readonly sites: readonly Site[];
  /** The `channels` map, `${NAME}` references resolved, by name, in the file's order. */
  readonly channels: ReadonlyMap<string, ChannelConfig>;
}

/** A sites file as written, `${NAME}` references kept, with the sites it describes. */
export interface SitesAsWritten {
  /** The file's data as written: references unresolved, `$${` not yet a `${`. */
  readonly file: SitesFile;
  /**
   * Its sites, defaults applied, as checked: each reference stood for a {@link REFERENCE_WORD}.
   * Their CA certificates are the files' contents; their other text is not for use.
   */
  readonly sites: readonly Site[];
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment variables a checker of the sites topic resolves: whoever can write to the topic
 * chooses the names, so only those meant for sites, never the checker's own settings and secrets.
 */
export const SITE_VARIABLE = /^SITE_[A-Za-z0-9_]*$/;

/** Why a site on the sites topic cannot refer to `name`. */
export function notSiteVariable(name: string): string {
  return `refers to \${${name}}: checkers of the sites topic resolve only SITE_* variables`;
}

const ID_REFERENCE =
  "cannot hold a ${NAME} reference here: the id is the site's key on the sites topic; write it out";

/**
 * Reads a sites file and validates it as {@link parseSites} does.
 *
 * @throws {ConfigError} Listing every problem, when the file cannot be read or is invalid.
 */
export async function loadSites(
  path: string,
  env: Env = Deno.env.toObject(),
): Promise<readonly Site[]> {
  return parseSites(await readSitesText(path), path, env);
}

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
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSites } from "./file.ts";
 * const text = "sites:\n  - id: a\n    url: https://${HOST}/\n    interval: 30s\n";
 * const [site] = parseSites(text, "sites.yaml", { HOST: "a.example" });
 * assert.deepEqual([site?.url, site?.urlAsWritten, site?.timeoutMs], ["https://a.example/", "https://${HOST}/", 10_000]);
 * ```
 */
export function parseSites(text: string, file: string, env: Env = {}): readonly Site[] {
  const { sites, problems } = read(text, file, { env, channelEnv: null });
  if (problems.length > 0) throw sitesFileError(problems);
  return sites;
}

/**
 * Reads a sites file and validates it as {@link parseAlertConfig} does.
 *
 * @throws {ConfigError} Listing every problem, when the file cannot be read or is invalid.
 */
export async function loadAlertConfig(
  path: string,
  env: Env = Deno.env.toObject(),
): Promise<AlertConfig> {
  return parseAlertConfig(await readSitesText(path), path, env);
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
 * import { parseAlertConfig } from "./file.ts";
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
export function parseAlertConfig(text: string, file: string, env: Env = {}): AlertConfig {
  const { sites, channels, problems } = read(text, file, { env, channelEnv: env });
  if (problems.length > 0) throw sitesFileError(problems);
  return { sites, channels };
}

/**
 * Reads a sites file and validates it as {@link parseSitesAsWritten} does.
 *
 * @throws {ConfigError} Listing every problem, when the file cannot be read or is invalid.
 */
export async function loadSitesAsWritten(path: string): Promise<SitesAsWritten> {
  return parseSitesAsWritten(await readSitesText(path), path);
}

/**
 * Validates the text of a sites file as {@link parseSites} does, every rule and every problem,
 * but without resolving `${NAME}` references: each one is checked as the {@link REFERENCE_WORD}
 * (so it can stand for part of a value, not for all of a URL or a duration), and the data is
 * returned as written, for a checker elsewhere to resolve from its own environment (which gives
 * out {@link SITE_VARIABLE} names only). The `channels` are checked as {@link parseSites} checks
 * them: a value that holds a reference, for its type only (channels are not published).
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
 * import { parseSitesAsWritten } from "./file.ts";
 * const text = "sites:\n  - id: a\n    url: https://${SITE_HOST}/\n";
 * const { file, sites } = parseSitesAsWritten(text, "sites.yaml");
 * assert.equal(file.sites[0]?.url, "https://${SITE_HOST}/");
 * assert.equal(sites[0]?.url, "https://x/");
 * ```
 */
export function parseSitesAsWritten(text: string, file: string): SitesAsWritten {
  const { written, sites, problems } = read(text, file, {
    env: EVERY_NAME_A_WORD,
    channelEnv: null,
    // Checkers of the sites topic resolve SITE_* names only: a site that names another one would
    // fail on every check, so it is not published.
    refuse: (name, path) =>
      path.length === 3 && path[0] === "sites" && path[2] === "id"
        ? ID_REFERENCE
        : SITE_VARIABLE.test(name)
        ? null
        : notSiteVariable(name),
  });
  if (problems.length > 0) {
    const { channels: _, ...rest } = written;
    const referenced = referencedPaths(rest);
    throw sitesFileError(problems, (problem) => {
      // (A problem with the reference itself needs no hint.)
      const aboutReference = problem.message === ID_REFERENCE ||
        problem.message.startsWith("refers to ${");
      if (!referenced.has(problem.path) || aboutReference) return problem;
      const hint =
        `each \${NAME} was read as the word "${REFERENCE_WORD}": checkers resolve references, so one may stand for part of this value, not for all of it`;
      return { ...problem, message: `${problem.message} (${hint})` };
    });
  }
  // Resolving replaced text inside strings only: the data has the shape that was validated.
  return { file: written as SitesFile, sites };
}

/** Reads a file's sites' keys, then its alert keys: every problem of both is returned. */
function read(
  text: string,
  file: string,
  how: {
    readonly env: Env;
    /** For the channels' references; `null`: the channels are checked without their secrets. */
    readonly channelEnv: Env | null;
    readonly refuse?: (name: string, path: KeyPath) => string | null;
  },
): {
  readonly written: Readonly<Record<string, unknown>>;
  readonly sites: Site[];
  readonly channels: ReadonlyMap<string, ChannelConfig>;
  readonly problems: readonly ConfigProblem[];
} {
  const reading = readSitesFile(text, file, how);
  const { channels, names } = readChannels(reading.written.channels, {
    env: how.channelEnv,
    // Files, like secrets, are the alerter's to have.
    readCaFile: (path, at) => how.channelEnv === null ? null : readCaFile(path, at, reading),
    report: reading.report,
  });
  const rules = readAlertRules(reading.data, reading.sites, { ...reading, channelNames: names });
  const sites = reading.sites.map(({ index, site }) => ({ ...site, alert: rules.get(index)! }));
  return { written: reading.written, sites, channels, problems: reading.problems };
}
