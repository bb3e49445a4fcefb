/**
 * The sites file whole: config/ reads the sites' keys, alert/ the `alert` blocks and `channels`,
 * and every problem of both is reported at once, by file, line and key path. Read by a checker
 * ({@link parseSites}), by the alerter, with the channels' secrets ({@link parseAlertConfig}), and
 * as the sites topic publishes it, references unresolved ({@link parseSitesAsWritten}).
 *
 * @module
 */
import type { z } from "zod";
import { type ChannelConfig, channelsSchema, readChannels } from "../alert/channels/config.ts";
import { alertOptionsSchema, type AlertRule, readAlertRules } from "../alert/rules.ts";
import { dirname } from "node:path";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import {
  EVERY_NAME_A_WORD,
  interpolateEnv,
  REFERENCE_WORD,
  referencedPaths,
} from "../config/interpolate.ts";
import { checkSites, readCaFile, type SiteConfig } from "../config/sites.ts";
import { problemAt, type Report, sitesFileError } from "../config/sites_problems.ts";
import { sitesFileSchemaWith } from "../config/sites_schema.ts";
import { readTextFileAtMost } from "../config/text_file.ts";
import { formatKeyPath, type KeyPath, parseYaml } from "../config/yaml_source.ts";
import { quoted } from "../text.ts";

/** The sites file as written, every key of it: `schema/sites.json` is generated from it. */
export const sitesFileSchema = sitesFileSchemaWith({
  alert: alertOptionsSchema,
  channels: channelsSchema,
});

/** A parsed sites file. */
type SitesFile = z.infer<typeof sitesFileSchema>;

/** One site to check, with every default applied, and its alert rule. */
export interface Site extends SiteConfig {
  readonly alert: AlertRule;
}

/** A sites file as the alerter reads it: the sites, and the channels by name, resolved. */
interface AlertConfig {
  readonly sites: readonly Site[];
  readonly channels: ReadonlyMap<string, ChannelConfig>;
}

/** A file as written (`${NAME}` kept, `$${` not yet `${`) and its sites as checked: only their CA
 * certificates are for use, each reference having been read as the {@link REFERENCE_WORD}. */
export interface SitesAsWritten {
  readonly file: SitesFile;
  readonly sites: readonly Site[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Room for tens of thousands of sites; a bigger file is a mistake (or `/dev/zero`). */
export const MAX_SITES_FILE_BYTES = 8 * 1024 * 1024;

function readSitesText(path: string): Promise<string> {
  return readTextFileAtMost(path, MAX_SITES_FILE_BYTES, "is it a sites file?");
}

/**
 * The variables a checker of the sites topic resolves: whoever writes to the topic chooses the
 * names, so only those meant for sites, never the checker's own settings and secrets.
 */
export const SITE_VARIABLE = /^SITE_[A-Za-z0-9_]*$/;

/** Why a site on the sites topic cannot refer to `name`. */
export function notSiteVariable(name: string): string {
  return `refers to \${${name}}: checkers of the sites topic resolve only SITE_* variables`;
}

const ID_REFERENCE =
  "cannot hold a ${NAME} reference here: the id is the site's key on the sites topic; write it out";

/** Reads a sites file as {@link parseSites} does; a ConfigError lists every problem. */
export async function loadSites(
  path: string,
  env: Env = Deno.env.toObject(),
): Promise<readonly Site[]> {
  return parseSites(await readSitesText(path), path, env);
}

/**
 * Validates a sites file's text, defaults applied; a ConfigError lists every problem. Its
 * `channels` are checked, but their references are not resolved nor their files read: a checker
 * need not have the alerter's secrets.
 */
export function parseSites(text: string, file: string, env: Env = {}): readonly Site[] {
  const { sites, problems } = read(text, file, { env, channelEnv: null });
  if (problems.length > 0) throw sitesFileError(problems);
  return sites;
}

/** Reads a sites file as {@link parseAlertConfig} does. */
export async function loadAlertConfig(
  path: string,
  env: Env = Deno.env.toObject(),
): Promise<AlertConfig> {
  return parseAlertConfig(await readSitesText(path), path, env);
}

/** Validates a sites file as {@link parseSites} does, and resolves its `channels` map too. */
export function parseAlertConfig(text: string, file: string, env: Env = {}): AlertConfig {
  const { sites, channels, problems } = read(text, file, { env, channelEnv: env });
  if (problems.length > 0) throw sitesFileError(problems);
  return { sites, channels };
}

/** Reads a sites file as {@link parseSitesAsWritten} does. */
export async function loadSitesAsWritten(path: string): Promise<SitesAsWritten> {
  return parseSitesAsWritten(await readSitesText(path), path);
}

/**
 * Validates a sites file as {@link parseSites} does, every rule and every problem, without
 * resolving `${NAME}` references: each is checked as the {@link REFERENCE_WORD} (it may stand for
 * part of a value, not all of a URL or a duration), for checkers to resolve from their own
 * environment ({@link SITE_VARIABLE} names only). An `id` may hold none.
 */
export function parseSitesAsWritten(text: string, file: string): SitesAsWritten {
  const { written, sites, problems } = read(text, file, {
    env: EVERY_NAME_A_WORD,
    channelEnv: null,
    // A site that names another variable would fail on every check: it is not published.
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

/**
 * Reads a file: YAML → `${NAME}` references resolved (`refuse` says why one may not be, `null`:
 * it may) → the sites' keys, then the alert keys; every problem of both is returned, each at its
 * file, line and key path. A ConfigError only when it is not YAML or not a mapping.
 */
function read(
  text: string,
  file: string,
  how: {
    env: Env;
    channelEnv: Env | null;
    refuse?: (name: string, path: KeyPath) => string | null;
  },
) {
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
  const { refuse } = how;
  if (refuse !== undefined) {
    interpolateEnv(rest, {}, (path, _message, name) => {
      const why = refuse(name, path);
      if (why !== null) report(path, why);
    });
  }
  const unset = new Set<string>();
  const data = interpolateEnv(rest, how.env, (path, message) => {
    unset.add(formatKeyPath(path));
    report(path, message);
  }) as Record<string, unknown>;
  const context = { report, written, unset, baseDir: dirname(file) };
  const built = checkSites(data, context);
  const { channels, names } = readChannels(written.channels, {
    env: how.channelEnv,
    // Files, like secrets, are the alerter's to have.
    readCaFile: (path, at) => how.channelEnv === null ? null : readCaFile(path, at, context),
    report,
  });
  const rules = readAlertRules(data, built, { ...context, channelNames: names });
  const sites: Site[] = built.map(({ index, site }) => ({ ...site, alert: rules.get(index)! }));
  return { written, sites, channels, problems };
}
