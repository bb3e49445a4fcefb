/**
 * What `monitor serve` reads: sites with their state and uptime, a site's checks a page at a time,
 * uptime by hour or day, incidents. Every query is bounded: uptime comes from the hourly rollups
 * over a stated range of hours, a site's checks from the index on (site_id, checked_at) within a
 * time range and a LIMIT, so no query scans `checks`. The windows are computed from the caller's
 * clock as the `site_uptime` view defines them: that many whole hours before the current hour, plus
 * the current hour so far.
 *
 * @module
 */
import type postgres from "postgres";
import type { Sql } from "./client.ts";

const HOUR_MS = 3_600_000;

/** The uptime windows a site summary reports, in hours. */
export const UPTIME_WINDOWS = { "24h": 24, "7d": 168, "30d": 720, "90d": 2160 } as const;

/** The name of an uptime window. */
export type UptimeWindow = keyof typeof UPTIME_WINDOWS;

/** A region's latest check of a site. */
export interface RegionState {
  readonly region: string;
  readonly checkedAt: Date;
  readonly up: boolean;
  readonly statusCode: number | null;
  readonly responseTimeMs: number | null;
  readonly errorKind: string | null;
}

/** A site as the status page and `/api/v1/sites` show it. */
export interface SiteSummary {
  readonly siteId: string;
  readonly name: string;
  readonly url: string;
  /** Each region's latest check within the last day, by region name. */
  readonly regions: readonly RegionState[];
  /** Share of checks up in each window; null when the window holds no check. */
  readonly uptime: { readonly [W in UptimeWindow]: number | null };
  /** Over the last 24 hours, from the rollups' histograms (within 4.5 %). */
  readonly responseTimeMsP50: number | null;
  readonly responseTimeMsP95: number | null;
}

/** Which sites may be shown: a list of ids, or null for all of them. */
export type Visible = readonly string[] | null;

/** How far back a region's latest check is looked for, and among how many of the site's latest. */
const STATE_LOOKBACK_MS = 86_400_000;
const STATE_LATEST_CHECKS = 50;

function visibleOnly(sql: Sql, visible: Visible, column: string): postgres.PendingQuery<[]> {
  return visible === null ? sql`` : sql`AND ${sql(column)} = ANY(${visible as string[]})`;
}

function windowStart(now: Date, hours: number): Date {
  return new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - hours * HOUR_MS);
}

/**
 * Sites in order of id, after `after`, with their state and uptime.
 *
 * @param sql The database.
 * @param options Which sites (`visible`, `only` one id), where the page starts, its size, and now.
 * @returns At most `limit` sites.
 *
 * @example
 * ```ts ignore
 * import { siteSummaries } from "./reads.ts";
 * const sites = await siteSummaries(sql, { visible: null, after: "", limit: 50, now: new Date() });
 * ```
 */
export async function siteSummaries(sql: Sql, options: {
  readonly visible: Visible;
  readonly after?: string;
  readonly only?: string;
  readonly limit: number;
  readonly now: Date;
}): Promise<SiteSummary[]> {
  const { now } = options;
  const since = (window: UptimeWindow) => windowStart(now, UPTIME_WINDOWS[window]);
  const uptime = (window: UptimeWindow) =>
    sql`(sum(r.checks - r.failures) FILTER (WHERE r.hour >= ${since(window)}))::float8
      / nullif(sum(r.checks) FILTER (WHERE r.hour >= ${since(window)}), 0)`;
  const rows = await sql<(Omit<SiteSummary, "uptime" | "regions"> & Record<string, unknown>)[]>`
    WITH page AS (
      SELECT site_id, name, url FROM sites
      WHERE site_id > ${options.after ?? ""} ${visibleOnly(sql, options.visible, "site_id")}
        ${options.only === undefined ? sql`` : sql`AND site_id = ${options.only}`}
      ORDER BY site_id
      LIMIT ${options.limit}
    ), windows AS (
      SELECT r.site_id,
        ${uptime("24h")} AS uptime_24h, ${uptime("7d")} AS uptime_7d,
        ${uptime("30d")} AS uptime_30d, ${uptime("90d")} AS uptime_90d
      FROM page JOIN check_rollups_hourly AS r
        ON r.site_id = page.site_id AND r.hour >= ${since("90d")} AND r.hour <= ${now}
      GROUP BY r.site_id
    )
    SELECT page.site_id AS "siteId", page.name, page.url,
      w.uptime_24h, w.uptime_7d, w.uptime_30d, w.uptime_90d,
      monitor_histogram_quantile(day.histogram, 0.5) AS "responseTimeMsP50",
      monitor_histogram_quantile(day.histogram, 0.95) AS "responseTimeMsP95",
      coalesce(latest.regions, '[]') AS regions
    FROM page
    LEFT JOIN windows AS w USING (site_id)
    -- The last day's histograms on their own: merged under a FILTER over all 90 days, they cost
    -- five times as much (bench:serve).
    LEFT JOIN LATERAL (
      SELECT monitor_histogram_sum(response_time_histogram) AS histogram
      FROM check_rollups_hourly
      WHERE site_id = page.site_id AND hour >= ${since("24h")} AND hour <= ${now}
    ) AS day ON true
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object(
        'region', region, 'checkedAt', checked_at, 'up', up, 'statusCode', status_code,
        'responseTimeMs', response_time_ms, 'errorKind', error_kind) ORDER BY region) AS regions
      FROM (
        SELECT DISTINCT ON (region) * FROM (
          SELECT region, checked_at, up, status_code, response_time_ms, error_kind FROM checks
          WHERE site_id = page.site_id
            AND checked_at > ${new Date(now.getTime() - STATE_LOOKBACK_MS)} AND checked_at <= ${now}
          ORDER BY checked_at DESC
          LIMIT ${STATE_LATEST_CHECKS}
        ) AS recent
        ORDER BY region, checked_at DESC
      ) AS per_region
    ) AS latest ON true
    ORDER BY page.site_id`;
  return rows.map((row) => ({
    siteId: row.siteId,
    name: row.name,
    url: row.url,
    regions: (row.regions as (Omit<RegionState, "checkedAt"> & { checkedAt: string })[]).map(
      (r) => ({ ...r, checkedAt: new Date(r.checkedAt) }),
    ),
    uptime: {
      "24h": row.uptime_24h as number | null,
      "7d": row.uptime_7d as number | null,
      "30d": row.uptime_30d as number | null,
      "90d": row.uptime_90d as number | null,
    },
    responseTimeMsP50: row.responseTimeMsP50,
    responseTimeMsP95: row.responseTimeMsP95,
  }));
}

/**
 * Whether a site exists and may be shown: what a route needs that reads no summary.
 *
 * @param sql The database.
 * @param siteId The site.
 * @param visible Which sites may be shown.
 * @returns True when it may be shown.
 *
 * @example
 * ```ts ignore
 * import { siteShown } from "./reads.ts";
 * if (!await siteShown(sql, "shop", null)) console.log("no such site");
 * ```
 */
export async function siteShown(sql: Sql, siteId: string, visible: Visible): Promise<boolean> {
  const rows = await sql`
    SELECT 1 FROM sites WHERE site_id = ${siteId} ${visibleOnly(sql, visible, "site_id")}`;
  return rows.length > 0;
}

/** Uptime and times of a site over one bucket (an hour or a UTC day) and region. */
export interface UptimeBucket {
  readonly start: Date;
  readonly region: string;
  readonly checks: number;
  readonly failures: number;
  readonly responseTimeMsAvg: number | null;
  readonly responseTimeMsP95: number | null;
  readonly dnsMsAvg: number | null;
  readonly connectMsAvg: number | null;
  readonly tlsMsAvg: number | null;
  readonly firstByteMsAvg: number | null;
  readonly transferMsAvg: number | null;
}

/**
 * Sites' uptime by hour or day and region, from the rollups of `[from, to)`.
 *
 * @param sql The database.
 * @param options The sites (already known to be visible), the range, the bucket and a region.
 * @returns Buckets in order of site, start and region; a bucket without checks is absent.
 *
 * @example
 * ```ts ignore
 * import { uptimeBuckets } from "./reads.ts";
 * const days = await uptimeBuckets(sql, { siteIds: ["shop"], from, to, bucket: "day" });
 * ```
 */
export async function uptimeBuckets(sql: Sql, options: {
  readonly siteIds: readonly string[];
  readonly from: Date;
  readonly to: Date;
  readonly bucket: "hour" | "day";
  readonly region?: string;
}): Promise<(UptimeBucket & { readonly siteId: string })[]> {
  const phase = (name: string) =>
    sql`(sum(${sql(`${name}_sum`)}) / nullif(sum(${sql(`${name}_count`)}), 0))`;
  return await sql<(UptimeBucket & { siteId: string })[]>`
    SELECT site_id AS "siteId", date_trunc(${options.bucket}, hour, 'UTC') AS start, region,
      sum(checks)::float8 AS checks, sum(failures)::float8 AS failures,
      sum(response_time_ms_sum) / nullif(sum(responses), 0) AS "responseTimeMsAvg",
      monitor_histogram_quantile(monitor_histogram_sum(response_time_histogram), 0.95)
        AS "responseTimeMsP95",
      ${phase("dns_ms")} AS "dnsMsAvg", ${phase("connect_ms")} AS "connectMsAvg",
      ${phase("tls_ms")} AS "tlsMsAvg", ${phase("first_byte_ms")} AS "firstByteMsAvg",
      ${phase("transfer_ms")} AS "transferMsAvg"
    FROM check_rollups_hourly
    WHERE site_id = ANY(${options.siteIds as string[]})
      AND hour >= ${options.from} AND hour < ${options.to}
      ${options.region === undefined ? sql`` : sql`AND region = ${options.region}`}
    GROUP BY site_id, 2, region
    ORDER BY site_id, 2, region`;
}

/** One stored check, as the API lists them. */
export interface CheckRow {
  readonly checkId: string;
  readonly checkedAt: Date;
  readonly region: string;
  readonly up: boolean;
  readonly statusCode: number | null;
  readonly responseTimeMs: number | null;
  readonly dnsMs: number | null;
  readonly connectMs: number | null;
  readonly tlsMs: number | null;
  readonly firstByteMs: number | null;
  readonly transferMs: number | null;
  readonly errorKind: string | null;
  readonly errorMessage: string | null;
}

/** Where a page of checks continues: below this check in (checked_at, check_id) order. */
export interface CheckCursor {
  readonly checkedAt: Date;
  readonly checkId: string;
}

/**
 * A site's checks in `[from, to)`, newest first, a page at a time. The order is (checked_at,
 * check_id), the index's order with a tie-break, so a page starts where the last ended even when
 * two checks share a time, and every page reads only the partitions of its range.
 *
 * @param sql The database.
 * @param options The site, range, region, page size and where the page starts.
 * @returns At most `limit` checks.
 *
 * @example
 * ```ts ignore
 * import { siteChecks } from "./reads.ts";
 * const page = await siteChecks(sql, { siteId: "shop", from, to, limit: 100 });
 * ```
 */
export async function siteChecks(sql: Sql, options: {
  readonly siteId: string;
  readonly from: Date;
  readonly to: Date;
  readonly limit: number;
  readonly region?: string;
  readonly before?: CheckCursor;
}): Promise<CheckRow[]> {
  const { before } = options;
  return await sql<CheckRow[]>`
    SELECT check_id AS "checkId", checked_at AS "checkedAt", region, up,
      status_code AS "statusCode", response_time_ms AS "responseTimeMs", dns_ms AS "dnsMs",
      connect_ms AS "connectMs", tls_ms AS "tlsMs", first_byte_ms AS "firstByteMs",
      transfer_ms AS "transferMs", error_kind AS "errorKind", error_message AS "errorMessage"
    FROM checks
    WHERE site_id = ${options.siteId} AND checked_at >= ${options.from} AND checked_at < ${options.to}
      ${options.region === undefined ? sql`` : sql`AND region = ${options.region}`}
      ${
    before === undefined
      ? sql``
      : sql`AND (checked_at, check_id) < (${before.checkedAt}, ${before.checkId}::uuid)`
  }
    ORDER BY checked_at DESC, check_id DESC
    LIMIT ${options.limit}`;
}

/** An incident, as the API and the pages show it. */
export interface IncidentRow {
  readonly incidentId: string;
  readonly siteId: string;
  readonly kind: string;
  readonly severity: string;
  readonly regions: readonly string[];
  readonly openedAt: Date;
  readonly resolvedAt: Date | null;
  readonly causeErrorKind: string | null;
  readonly causeStatusCode: number | null;
  readonly causeMessage: string;
}

/**
 * Incidents newest first: the open ones, or those open at any time in `[from, to)`.
 *
 * @param sql The database.
 * @param options Which sites, open only or a range, and how many.
 * @returns At most `limit` incidents.
 *
 * @example
 * ```ts ignore
 * import { incidents } from "./reads.ts";
 * const open = await incidents(sql, { visible: null, open: true, limit: 100 });
 * ```
 */
export async function incidents(
  sql: Sql,
  options: {
    readonly visible: Visible;
    readonly siteId?: string;
    readonly limit: number;
  } & ({ readonly open: true } | { readonly open: false; readonly from: Date; readonly to: Date }),
): Promise<IncidentRow[]> {
  return await sql<IncidentRow[]>`
    SELECT incident_id AS "incidentId", site_id AS "siteId", kind, severity, regions,
      opened_at AS "openedAt", resolved_at AS "resolvedAt", cause_error_kind AS "causeErrorKind",
      cause_status_code AS "causeStatusCode", cause_message AS "causeMessage"
    FROM incidents
    WHERE true ${visibleOnly(sql, options.visible, "site_id")}
      ${options.siteId === undefined ? sql`` : sql`AND site_id = ${options.siteId}`}
      ${
    options.open
      ? sql`AND resolved_at IS NULL`
      : sql`AND opened_at < ${options.to} AND coalesce(resolved_at, 'infinity') >= ${options.from}`
  }
    ORDER BY opened_at DESC, incident_id
    LIMIT ${options.limit}`;
}
