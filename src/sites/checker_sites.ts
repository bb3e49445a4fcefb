/**
 * What a checker makes of the sites topic's rows it holds: each message read, its `${NAME}`
 * references resolved from this checker's environment, and validated. A site it cannot check (a
 * variable it lacks) is kept as misconfigured, reported by a result of its own on its interval; a
 * message that is no site at all is logged and left out. Each message is worked on once: rows that
 * did not change keep what was made of them.
 *
 * @module
 */
import type { MisconfiguredSite } from "../check/config_error.ts";
import { parseDurationMs } from "../config/duration.ts";
import { DEFAULTS, type Patterns, resolveSite, type SiteConfig } from "../config/sites.ts";
import type { Logger } from "../log.ts";
import { decodeSiteMessage } from "./site_message.ts";

/** A site as a checker schedules it: one it checks, or one it reports as misconfigured. */
export type CheckerSite = SiteConfig | MisconfiguredSite;

/**
 * Whether the site cannot be checked.
 *
 * @param site A site from {@link checkerSites}.
 * @returns True for a misconfigured one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMisconfigured } from "./checker_sites.ts";
 * assert.ok(isMisconfigured({ id: "a", name: "a", urlAsWritten: "x:", intervalMs: 1, problems: [] }));
 * ```
 */
export function isMisconfigured(site: CheckerSite): site is MisconfiguredSite {
  return "problems" in site;
}

/**
 * Makes a function that turns the rows a checker holds into its sites, remembering what it made
 * of each message.
 *
 * @param options `env` for references; `log` for messages that are no site and sites that
 *   cannot be checked (each said once, when it arrives).
 * @returns Rows (site id → message value) → the sites to schedule, in key order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkerSites } from "./checker_sites.ts";
 * const sitesOf = checkerSites({ env: { HOST: "a.example" }, log: console });
 * const value = new TextEncoder().encode(
 *   '{"version":1,"site":{"id":"a","url":"https://${HOST}/"}}',
 * );
 * assert.equal(sitesOf(new Map([["a", value]]))[0]?.id, "a");
 * ```
 */
export function checkerSites(
  options: {
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly log: Pick<Logger, "warn" | "error">;
  },
): (rows: ReadonlyMap<string, Uint8Array>) => CheckerSite[] {
  const { env, log } = options;
  /** Per key: the message value last seen, and the site made of it (null: no site). */
  let made = new Map<string, { readonly value: Uint8Array; readonly site: CheckerSite | null }>();

  /** Makes a site of a message; `patterns` shares compiled patterns within one change. */
  function make(key: string, value: Uint8Array, patterns: Patterns): CheckerSite | null {
    const message = decodeSiteMessage(key, value);
    if ("unreadable" in message) {
      log.warn("sites topic: message is not a site, skipped", {
        key,
        reason: message.unreadable,
      });
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
      intervalMs: (entry.interval === undefined ? undefined : parseDurationMs(entry.interval)) ??
        DEFAULTS.intervalMs,
      problems: resolved.problems,
    };
  }

  return (rows) => {
    const next = new Map<
      string,
      { readonly value: Uint8Array; readonly site: CheckerSite | null }
    >();
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
