/**
 * What the handlers read: the database's reads limited to the sites shown, or a fake in tests.
 *
 * @module
 */
import type { Sql } from "../db/client.ts";
import {
  dailyCounts,
  incidents,
  siteChecks,
  siteShown,
  siteSummaries,
  type SiteSummary,
  uptimeBuckets,
  type Visible,
} from "../db/reads.ts";

/** A read of src/db/reads.ts without the options {@link databaseReads} adds (each of a union's). */
// deno-lint-ignore no-explicit-any
type Read<F extends (sql: Sql, options: any) => Promise<unknown>, Added extends string = never> = (
  options: Parameters<F>[1] extends infer O ? O extends unknown ? Omit<O, Added> : never : never,
) => ReturnType<F>;

/** The reads of `monitor serve`; every one sees only the visible sites. */
export interface ServeReads {
  sites: Read<typeof siteSummaries, "visible" | "only">;
  site(siteId: string, now: Date): Promise<SiteSummary | undefined>;
  /** Whether the site exists and is shown, without its summary. */
  shown(siteId: string): Promise<boolean>;
  checks: Read<typeof siteChecks>;
  uptime: Read<typeof uptimeBuckets>;
  /** Checks and failures per site and UTC day, regions summed. */
  days: Read<typeof dailyCounts>;
  incidents: Read<typeof incidents, "visible">;
}

/** The reads of a database, limited to the `visible` sites (SERVE_SITES; null: all). */
export function databaseReads(sql: Sql, visible: Visible): ServeReads {
  const shown = (siteId: string) => visible === null || visible.includes(siteId);
  return {
    sites: (options) => siteSummaries(sql, { ...options, visible }),
    site: async (siteId, now) =>
      (await siteSummaries(sql, { visible, only: siteId, limit: 1, now }))[0],
    shown: (siteId) => siteShown(sql, siteId, visible),
    checks: (options) => shown(options.siteId) ? siteChecks(sql, options) : Promise.resolve([]),
    uptime: (options) => uptimeBuckets(sql, { ...options, siteIds: options.siteIds.filter(shown) }),
    days: (options) => dailyCounts(sql, { ...options, siteIds: options.siteIds.filter(shown) }),
    incidents: (options) => incidents(sql, { ...options, visible }),
  };
}
