/**
 * What `monitor serve` reads, every query bounded: rollups over a stated range, a site's checks
 * from the index on (site_id, checked_at) within a range and a LIMIT, never a scan of `checks`.
 *
 * @module
 */
import type postgres from "postgres";
import type { Sql } from "./client.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The uptime windows a site summary reports, in hours. */
export const UPTIME_WINDOWS = { "24h": 24, "7d": 168, "30d": 720, "90d": 2160 } as const;

/** The name of an uptime window. */
export type UptimeWindow = keyof typeof UPTIME_WINDOWS;

/** A region's latest check of a site. */
export type RegionState = Pick<
  CheckRow,
  "region" | "checkedAt" | "up" | "statusCode" | "responseTimeMs" | "errorKind"
>;

/** A site as the status page and `/api/v1/sites` show it. */
export interface SiteSummary {
  readonly siteId: string;
  readonly name: string;
  readonly url: string;
  /** Each region's latest check within the last day. */
  readonly regions: readonly RegionState[];
  /** Share of checks up in each window; null when the window holds no check. */
  readonly uptime: { readonly [W in UptimeWindow]: number | null };
  /** Over the 24h window, from the rollups' histograms (within 4.5 %). */
  readonly responseTimeMsP50: number | null;
  readonly responseTimeMsP95: number | null;
}

/** Which sites may be shown: a list of ids, or null for all of them. */
export type Visible = readonly string[] | null;

/** A region's latest check is looked for in the last day, among the site's 50 latest. */
const STATE_LATEST_CHECKS = 50;

function visibleOnly(sql: Sql, visible: Visible): postgres.PendingQuery<[]> {
  return visible === null ? sql`` : sql`AND site_id = ANY(${visible as string[]})`;
}

/** Sites in order of id, after `after` (or `only` one), with their state and uptime. */
async function siteSummaries(sql: Sql, visible: Visible, options: {
  readonly after?: string | undefined;
  readonly only?: string;
  readonly limit: number;
  readonly now: Date;
}): Promise<SiteSummary[]> {
  const { now } = options;
  // 24h: 24 whole hours before this one; 7d, 30d, 90d: that many whole UTC days before today.
  const since = (window: UptimeWindow) => {
    const hours = UPTIME_WINDOWS[window];
    const unit = hours <= 24 ? HOUR_MS : DAY_MS;
    return new Date(Math.floor(now.getTime() / unit) * unit - hours * HOUR_MS);
  };
  const uptime = (window: UptimeWindow) =>
    sql`(sum(checks - failures) FILTER (WHERE day >= ${since(window)}))::float8
      / nullif(sum(checks) FILTER (WHERE day >= ${since(window)}), 0)`;
  // Each aggregate in a LATERAL: an index range scan per site, whatever the planner estimates.
  const rows = await sql<
    (Omit<SiteSummary, "regions"> & {
      regions: (Omit<RegionState, "checkedAt"> & { checkedAt: string })[];
    })[]
  >`
    WITH page AS (
      SELECT site_id, name, url FROM sites
      WHERE site_id > ${options.after ?? ""} ${visibleOnly(sql, visible)}
        ${options.only === undefined ? sql`` : sql`AND site_id = ${options.only}`}
      ORDER BY site_id
      LIMIT ${options.limit}
    )
    SELECT page.site_id AS "siteId", page.name, page.url,
      json_build_object('24h', h.uptime_24h, '7d', d.uptime_7d, '30d', d.uptime_30d,
        '90d', d.uptime_90d) AS uptime,
      monitor_bucket_value(p.p50::integer) AS "responseTimeMsP50",
      monitor_bucket_value(p.p95::integer) AS "responseTimeMsP95",
      coalesce(latest.regions, '[]') AS regions
    FROM page
    LEFT JOIN LATERAL (
      SELECT sum(checks - failures)::float8 / nullif(sum(checks), 0) AS uptime_24h
      FROM check_rollups_hourly
      WHERE site_id = page.site_id AND hour >= ${since("24h")} AND hour <= ${now}
    ) AS h ON true
    LEFT JOIN LATERAL (
      SELECT ${uptime("7d")} AS uptime_7d, ${uptime("30d")} AS uptime_30d,
        ${uptime("90d")} AS uptime_90d
      FROM check_rollups_daily
      WHERE site_id = page.site_id AND day >= ${since("90d")} AND day <= ${now}
    ) AS d ON true
    -- Percentiles as monitor_histogram_quantile() defines them, from the buckets' counts summed
    -- in SQL: merging the histograms one by one costs ten times as much.
    LEFT JOIN LATERAL (
      SELECT min(bucket) FILTER (WHERE cumulative >= 0.5 * total) AS p50,
        min(bucket) FILTER (WHERE cumulative >= 0.95 * total) AS p95
      FROM (
        SELECT bucket, sum(sum(n)) OVER (ORDER BY bucket) AS cumulative, sum(sum(n)) OVER () AS total
        FROM check_rollups_hourly AS r,
          unnest(r.response_time_histogram) WITH ORDINALITY AS u(n, bucket)
        WHERE r.site_id = page.site_id AND r.hour >= ${since("24h")} AND r.hour <= ${now} AND n > 0
        GROUP BY bucket
      ) AS running
    ) AS p ON true
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object(
        'region', region, 'checkedAt', checked_at, 'up', up, 'statusCode', status_code,
        'responseTimeMs', response_time_ms, 'errorKind', error_kind) ORDER BY region) AS regions
      FROM (
        SELECT DISTINCT ON (region) * FROM (
          SELECT region, checked_at, up, status_code, response_time_ms, error_kind FROM checks
          WHERE site_id = page.site_id
            AND checked_at > ${new Date(now.getTime() - DAY_MS)} AND checked_at <= ${now}
          ORDER BY checked_at DESC
          LIMIT ${STATE_LATEST_CHECKS}
        ) AS recent
        ORDER BY region, checked_at DESC
      ) AS per_region
    ) AS latest ON true
    ORDER BY page.site_id`;
  return rows.map((row) => ({
    ...row,
    regions: row.regions.map((r) => ({ ...r, checkedAt: new Date(r.checkedAt) })),
  }));
}

/** Checks and failures of a site on a UTC day, all regions. */
export type DayCount = { siteId: string; day: Date; checks: number; failures: number };

/** Sites' counts per UTC day in `[from, to)`, from the daily rollups. */
async function dailyCounts(sql: Sql, options: {
  readonly siteIds: readonly string[];
  readonly from: Date;
  readonly to: Date;
}): Promise<DayCount[]> {
  return await sql<DayCount[]>`
    SELECT site_id AS "siteId", day, checks, failures
    FROM check_rollups_daily
    WHERE site_id = ANY(${options.siteIds as string[]})
      AND day >= ${options.from} AND day < ${options.to}`;
}

/** Uptime and times of a site over one bucket (an hour or a UTC day) and region. */
export interface UptimeBucket {
  readonly siteId: string;
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
 * Sites' uptime, times and phases by hour or UTC day and region, from the hourly rollups of
 * `[from, to)`, in order of site, start and region; a bucket without checks is absent.
 */
async function uptimeBuckets(sql: Sql, options: {
  readonly siteIds: readonly string[];
  readonly from: Date;
  readonly to: Date;
  readonly bucket: "hour" | "day";
  readonly region?: string | undefined;
}): Promise<UptimeBucket[]> {
  const phase = (name: string) =>
    sql`(sum(${sql(`${name}_sum`)}) / nullif(sum(${sql(`${name}_count`)}), 0))`;
  return await sql<UptimeBucket[]>`
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
export type CheckCursor = Pick<CheckRow, "checkedAt" | "checkId">;

/**
 * A site's checks in `[from, to)`, newest first, a page at a time, in (checked_at, check_id)
 * order: the index's order with a tie-break, so a page starts where the last ended.
 */
async function siteChecks(sql: Sql, options: {
  readonly siteId: string;
  readonly from: Date;
  readonly to: Date;
  readonly limit: number;
  readonly region?: string | undefined;
  readonly before?: CheckCursor | undefined;
}): Promise<CheckRow[]> {
  const { before } = options;
  const below = before === undefined
    ? sql``
    : sql`AND (checked_at, check_id) < (${before.checkedAt}, ${before.checkId}::uuid)`;
  return await sql<CheckRow[]>`
    SELECT check_id AS "checkId", checked_at AS "checkedAt", region, up,
      status_code AS "statusCode", response_time_ms AS "responseTimeMs", dns_ms AS "dnsMs",
      connect_ms AS "connectMs", tls_ms AS "tlsMs", first_byte_ms AS "firstByteMs",
      transfer_ms AS "transferMs", error_kind AS "errorKind", error_message AS "errorMessage"
    FROM checks
    WHERE site_id = ${options.siteId} AND checked_at >= ${options.from} AND checked_at < ${options.to}
      ${options.region === undefined ? sql`` : sql`AND region = ${options.region}`}
      ${below}
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

/** Incidents newest first: the open ones, or those open at any time in `[from, to)`. */
async function incidents(
  sql: Sql,
  visible: Visible,
  options: {
    readonly siteId?: string | undefined;
    readonly limit: number;
  } & ({ readonly open: true } | { readonly open: false; readonly from: Date; readonly to: Date }),
): Promise<IncidentRow[]> {
  const when = options.open
    ? sql`AND resolved_at IS NULL`
    : sql`AND opened_at < ${options.to} AND coalesce(resolved_at, 'infinity') >= ${options.from}`;
  return await sql<IncidentRow[]>`
    SELECT incident_id AS "incidentId", site_id AS "siteId", kind, severity, regions,
      opened_at AS "openedAt", resolved_at AS "resolvedAt", cause_error_kind AS "causeErrorKind",
      cause_status_code AS "causeStatusCode", cause_message AS "causeMessage"
    FROM incidents
    WHERE true ${visibleOnly(sql, visible)}
      ${options.siteId === undefined ? sql`` : sql`AND site_id = ${options.siteId}`}
      ${when}
    ORDER BY opened_at DESC, incident_id
    LIMIT ${options.limit}`;
}

/** The reads of `monitor serve`; every one sees only the visible sites. */
export interface ServeReads {
  sites(options: Parameters<typeof siteSummaries>[2]): ReturnType<typeof siteSummaries>;
  /** Whether the site exists and is shown, without its summary. */
  shown(siteId: string): Promise<boolean>;
  checks(options: Parameters<typeof siteChecks>[1]): ReturnType<typeof siteChecks>;
  uptime(options: Parameters<typeof uptimeBuckets>[1]): ReturnType<typeof uptimeBuckets>;
  days(options: Parameters<typeof dailyCounts>[1]): ReturnType<typeof dailyCounts>;
  incidents(options: Parameters<typeof incidents>[2]): ReturnType<typeof incidents>;
}

/** The reads of a database, limited to the `visible` sites (SERVE_SITES; null: all). */
export function databaseReads(sql: Sql, visible: Visible): ServeReads {
  const shown = (siteId: string) => visible === null || visible.includes(siteId);
  return {
    sites: (options) => siteSummaries(sql, visible, options),
    shown: async (siteId) =>
      (await sql`SELECT 1 FROM sites WHERE site_id = ${siteId} ${visibleOnly(sql, visible)}`)
        .length > 0,
    checks: (options) => shown(options.siteId) ? siteChecks(sql, options) : Promise.resolve([]),
    uptime: (options) => uptimeBuckets(sql, { ...options, siteIds: options.siteIds.filter(shown) }),
    days: (options) => dailyCounts(sql, { ...options, siteIds: options.siteIds.filter(shown) }),
    incidents: (options) => incidents(sql, visible, options),
  };
}
