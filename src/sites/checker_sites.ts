/**
 * What a checker makes of the sites topic's rows: each message read, its `${NAME}` references
 * resolved from this checker's environment, and validated, once per message.
 *
 * @module
 */
import { readAlertRules } from "../alert/rules.ts";
import type { MisconfiguredSite } from "../check/check_site.ts";
import { parseDurationMs } from "../config/duration.ts";
import { interpolateEnv } from "../config/interpolate.ts";
import { caCertificates, checkSites, DEFAULTS, type Patterns } from "../config/sites.ts";
import type { Report } from "../config/sites_problems.ts";
import { formatKeyPath } from "../config/yaml_source.ts";
import type { Logger } from "../log.ts";
import { type Env, notSiteVariable, type Site, SITE_VARIABLE } from "./file.ts";
import { decodeSiteMessage } from "./site_message.ts";

/** A site as a checker schedules it: one it checks, or one it reports as misconfigured. */
export type CheckerSite = Site | MisconfiguredSite;

/** Where a checker's sites come from: calls `apply` with each new set until `signal` is aborted. */
export type SitesFeed = (
  apply: (sites: readonly CheckerSite[]) => void,
  signal: AbortSignal,
) => Promise<void>;

/** Whether the site is one a checker cannot check. */
export function isMisconfigured(site: CheckerSite): site is MisconfiguredSite {
  return "problems" in site;
}

/** A function from the rows a checker holds (site id → message value) to its sites, by key. */
export function checkerSites(
  { env, log }: { readonly env: Env; readonly log: Pick<Logger, "warn" | "error"> },
): (rows: ReadonlyMap<string, Uint8Array>) => CheckerSite[] {
  type Made = { readonly value: Uint8Array; readonly site: CheckerSite | null };
  let made = new Map<string, Made>();

  function make(key: string, value: Uint8Array, patterns: Patterns): CheckerSite | null {
    const message = decodeSiteMessage(key, value);
    if ("unreadable" in message) {
      log.warn("sites topic: message is not a site, skipped", { key, reason: message.unreadable });
      return null;
    }
    const { ca_cert: caCert, ...entry } = message.site;
    const resolved = resolveSite(entry, caCert ?? null, { env, patterns });
    if ("site" in resolved) return resolved.site;
    log.error("sites topic: this checker cannot check the site as configured", {
      site: key,
      problems: resolved.problems.join("; "),
    });
    return {
      id: entry.id,
      name: entry.name ?? entry.id,
      urlAsWritten: entry.url,
      intervalMs: parseDurationMs(entry.interval ?? "") ?? DEFAULTS.intervalMs,
      problems: resolved.problems,
    };
  }

  return (rows) => {
    const next = new Map<string, Made>();
    // (Not kept between changes: a writer sending ever new patterns would grow it without end.)
    const patterns: Patterns = new Map();
    for (const key of [...rows.keys()].sort()) {
      const value = rows.get(key)!;
      const before = made.get(key);
      // The rows keep each message's bytes as read: the same bytes are the same message.
      next.set(key, before?.value === value ? before : { value, site: make(key, value, patterns) });
    }
    made = next;
    return [...next.values()].flatMap(({ site }) => site === null ? [] : [site]);
  };
}

/**
 * Resolves one site of the sites topic (`ca_cert` apart) with this checker's environment and
 * validates it as a sites file's site; problems read `key: what is wrong`, never a resolved secret.
 */
export function resolveSite(
  entry: Readonly<Record<string, unknown>>,
  caCert: string | null,
  options: { readonly env: Env; readonly patterns?: Patterns },
): { readonly site: Site } | { readonly problems: readonly string[] } {
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
  const data = interpolateEnv(written, options.env, report) as typeof written;
  // A value that failed to resolve is reported once, as unset, not again as malformed.
  if (problems.length > 0) return { problems };
  const context = { report, written, baseDir: "." };
  const sites = checkSites(data, { ...context, compiled: options.patterns ?? new Map() });
  // (Channel names are not checked: the channels map is the alerter's.)
  const rules = readAlertRules(data, sites, context);
  // Whatever wrote the message, a private key is not used (nor is anything but certificates).
  const certificates = caCert === null ? { pem: null } : caCertificates(caCert);
  if ("problem" in certificates) report(["sites", 0, "ca_cert"], certificates.problem);
  const [built] = sites;
  if ("problem" in certificates || problems.length > 0 || built === undefined) {
    return { problems: [...new Set(problems)] };
  }
  return { site: { ...built.site, caCert: certificates.pem, alert: rules.get(0)! } };
}
