/**
 * The sites file whole: config/ reads the sites' keys, alert/ the `alert` blocks and `channels`,
 * and every problem of both is reported at once, by file, line and key path.
 *
 * @module
 */
import type { z } from "zod";
import { channelsSchema, readChannels } from "../alert/channels/config.ts";
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
import { formatKeyPath, parseYaml } from "../config/yaml_source.ts";
import { quoted } from "../text.ts";

/** The sites file as written, every key of it: `schema/sites.json` is generated from it. */
export const sitesFileSchema = sitesFileSchemaWith({
  alert: alertOptionsSchema,
  channels: channelsSchema,
});

/** One site to check, with every default applied, and its alert rule. */
export type Site = SiteConfig & { readonly alert: AlertRule };

/** A file as written (`${NAME}` kept) and its sites as checked, only their CA certificates used. */
export type SitesAsWritten = ReturnType<typeof parseSitesAsWritten>;

/** Environment variables by name. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Room for tens of thousands of sites; a bigger file is a mistake (or `/dev/zero`). */
export const MAX_SITES_FILE_BYTES = 8 * 1024 * 1024;

function readSitesText(path: string): Promise<string> {
  return readTextFileAtMost(path, MAX_SITES_FILE_BYTES, "is it a sites file?");
}

/** The variables a checker of the sites topic resolves: never its own settings and secrets. */
export const SITE_VARIABLE = /^SITE_[A-Za-z0-9_]*$/;

/** Why a site on the sites topic cannot refer to `name`. */
export function notSiteVariable(name: string): string {
  return `refers to \${${name}}: checkers of the sites topic resolve only SITE_* variables`;
}

const ID_REFERENCE =
  "cannot hold a ${NAME} reference here: the id is the site's key on the sites topic; write it out";

/** Reads a sites file as {@link parseSites} does. */
export async function loadSites(path: string, env: Env): Promise<readonly Site[]> {
  return parseSites(await readSitesText(path), path, env);
}

/**
 * Validates a sites file's text, defaults applied, `channels` unresolved (a checker need not have
 * the alerter's secrets); a ConfigError lists every problem.
 */
export function parseSites(text: string, file: string, env: Env = {}): readonly Site[] {
  return read(text, file, { env, channelEnv: null }).sites;
}

/** Reads a sites file as {@link parseAlertConfig} does. */
export async function loadAlertConfig(path: string, env: Env) {
  return parseAlertConfig(await readSitesText(path), path, env);
}

/** Validates a sites file as {@link parseSites} does, and resolves its `channels` map too. */
export function parseAlertConfig(text: string, file: string, env: Env = {}) {
  const { sites, channels } = read(text, file, { env, channelEnv: env });
  return { sites, channels };
}

/** Reads a sites file as {@link parseSitesAsWritten} does. */
export async function loadSitesAsWritten(path: string): Promise<SitesAsWritten> {
  return parseSitesAsWritten(await readSitesText(path), path);
}

/**
 * Validates a sites file as {@link parseSites} does, each `${NAME}` read as the
 * {@link REFERENCE_WORD}: checkers resolve references ({@link SITE_VARIABLE} names only).
 */
export function parseSitesAsWritten(text: string, file: string) {
  const how = { env: EVERY_NAME_A_WORD, channelEnv: null, asWritten: true };
  const { written, sites } = read(text, file, how);
  // Resolving replaced text inside strings only: the data has the shape that was validated.
  return { file: written as z.infer<typeof sitesFileSchema>, sites };
}

/** Reads a file: YAML → `${NAME}` resolved (`asWritten`: read as a word) → sites → alerts. */
function read(
  text: string,
  file: string,
  how: { env: Env; channelEnv: Env | null; asWritten?: boolean },
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
  if (how.asWritten) {
    // A site that names another variable would fail on every check: it is not published.
    interpolateEnv(rest, {}, (path, _message, name) => {
      const isId = path.length === 3 && path[0] === "sites" && path[2] === "id";
      if (isId) report(path, ID_REFERENCE);
      else if (!SITE_VARIABLE.test(name)) report(path, notSiteVariable(name));
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
  if (problems.length > 0) {
    throw sitesFileError(problems, how.asWritten ? referenceHint(rest) : undefined);
  }
  const sites: Site[] = built.map(({ index, site }) => ({ ...site, alert: rules.get(index)! }));
  return { written, sites, channels };
}

/** Adds to a problem in a value with a reference that the reference was read as a word. */
function referenceHint(data: unknown): (problem: ConfigProblem) => ConfigProblem {
  const referenced = referencedPaths(data);
  return (problem) => {
    const aboutReference = problem.message === ID_REFERENCE ||
      problem.message.startsWith("refers to ${");
    if (!referenced.has(problem.path) || aboutReference) return problem;
    const hint =
      `each \${NAME} was read as the word "${REFERENCE_WORD}": checkers resolve references, so one may stand for part of this value, not for all of it`;
    return { ...problem, message: `${problem.message} (${hint})` };
  };
}
