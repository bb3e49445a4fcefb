/**
 * What the handlers read, as an interface: the database's reads (src/db/reads.ts) limited to the
 * sites the operator shows, or a fake in tests.
 *
 * @module
 */
import type { Sql } from "../db/client.ts";
import {
  type CheckCursor,
  type CheckRow,
  type IncidentRow,
  incidents,
  siteChecks,
  siteShown,
  siteSummaries,
  type SiteSummary,
  type UptimeBucket,
  uptimeBuckets,
  type Visible,
} from "../db/reads.ts";

/** The reads of `monitor serve`; every one sees only the visible sites. */
export interface ServeReads {
  sites(options: { after?: string; limit: number; now: Date }): Promise<SiteSummary[]>;
  site(siteId: string, now: Date): Promise<SiteSummary | undefined>;
  /** Whether the site exists and is shown, without its summary. */
  shown(siteId: string): Promise<boolean>;
  checks(options: {
    siteId: string;
    from: Date;
    to: Date;
    limit: number;
    region?: string;
    before?: CheckCursor;
  }): Promise<CheckRow[]>;
  uptime(options: {
    siteIds: readonly string[];
    from: Date;
    to: Date;
    bucket: "hour" | "day";
    region?: string;
  }): Promise<(UptimeBucket & { readonly siteId: string })[]>;
  incidents(
    options:
      & { siteId?: string; limit: number }
      & ({ open: true } | { open: false; from: Date; to: Date }),
  ): Promise<IncidentRow[]>;
}

/**
 * The reads of a database, limited to `visible` sites.
 *
 * @param sql The database.
 * @param visible The ids of the sites shown (SERVE_SITES), or null for all.
 * @returns The reads.
 *
 * @example
 * ```ts ignore
 * import { databaseReads } from "./source.ts";
 * const reads = databaseReads(sql, ["shop", "blog"]);
 * ```
 */
export function databaseReads(sql: Sql, visible: Visible): ServeReads {
  const shown = (siteId: string) => visible === null || visible.includes(siteId);
  return {
    sites: (options) => siteSummaries(sql, { ...options, visible }),
    site: async (siteId, now) =>
      (await siteSummaries(sql, { visible, only: siteId, limit: 1, now }))[0],
    shown: (siteId) => siteShown(sql, siteId, visible),
    checks: (options) => shown(options.siteId) ? siteChecks(sql, options) : Promise.resolve([]),
    uptime: (options) => uptimeBuckets(sql, { ...options, siteIds: options.siteIds.filter(shown) }),
    incidents: (options) => incidents(sql, { ...options, visible }),
  };
}
