/**
 * The hourly and daily rollups checked against the rows they summarise: where a check counted twice (or not
 * at all) would show, since the primary key of `checks` already forbids a duplicate row.
 *
 * @module
 */
import type { Sql } from "../../src/db/client.ts";

/**
 * Rollup rows (site, hour and region, or site and day) that differ from a recomputation from the raw rows, or that
 * are missing on either side; none is right.
 */
export async function rollupMismatches(sql: Sql) {
  const rows = await sql`
    SELECT site_id, hour, region
    FROM check_rollups_hourly AS r
    FULL JOIN (
      SELECT site_id, date_trunc('hour', checked_at, 'UTC') AS hour, region,
             count(*)::int AS checks,
             (count(*) FILTER (WHERE NOT up))::int AS failures,
             count(response_time_ms)::int AS responses,
             coalesce(sum(response_time_ms), 0) AS response_time_ms_sum,
             monitor_histogram(response_time_ms) AS response_time_histogram,
             count(dns_ms)::int AS dns_ms_count, coalesce(sum(dns_ms), 0) AS dns_ms_sum,
             count(connect_ms)::int AS connect_ms_count,
             coalesce(sum(connect_ms), 0) AS connect_ms_sum,
             count(tls_ms)::int AS tls_ms_count, coalesce(sum(tls_ms), 0) AS tls_ms_sum,
             count(first_byte_ms)::int AS first_byte_ms_count,
             coalesce(sum(first_byte_ms), 0) AS first_byte_ms_sum,
             count(transfer_ms)::int AS transfer_ms_count,
             coalesce(sum(transfer_ms), 0) AS transfer_ms_sum
      FROM checks GROUP BY 1, 2, 3
    ) AS c USING (site_id, hour, region)
    WHERE r.checks IS DISTINCT FROM c.checks
       OR r.failures IS DISTINCT FROM c.failures
       OR r.responses IS DISTINCT FROM c.responses
       OR r.response_time_histogram IS DISTINCT FROM c.response_time_histogram
       OR abs(r.response_time_ms_sum - c.response_time_ms_sum) > 1e-6 * c.response_time_ms_sum
       OR r.dns_ms_count IS DISTINCT FROM c.dns_ms_count
       OR abs(r.dns_ms_sum - c.dns_ms_sum) > 1e-6 * c.dns_ms_sum
       OR r.connect_ms_count IS DISTINCT FROM c.connect_ms_count
       OR abs(r.connect_ms_sum - c.connect_ms_sum) > 1e-6 * c.connect_ms_sum
       OR r.tls_ms_count IS DISTINCT FROM c.tls_ms_count
       OR abs(r.tls_ms_sum - c.tls_ms_sum) > 1e-6 * c.tls_ms_sum
       OR r.first_byte_ms_count IS DISTINCT FROM c.first_byte_ms_count
       OR abs(r.first_byte_ms_sum - c.first_byte_ms_sum) > 1e-6 * c.first_byte_ms_sum
       OR r.transfer_ms_count IS DISTINCT FROM c.transfer_ms_count
       OR abs(r.transfer_ms_sum - c.transfer_ms_sum) > 1e-6 * c.transfer_ms_sum`;
  const days = await sql`
    SELECT site_id, day
    FROM check_rollups_daily AS r
    FULL JOIN (
      SELECT site_id, date_trunc('day', checked_at, 'UTC') AS day,
             count(*)::int AS checks, (count(*) FILTER (WHERE NOT up))::int AS failures
      FROM checks GROUP BY 1, 2
    ) AS c USING (site_id, day)
    WHERE r.checks IS DISTINCT FROM c.checks OR r.failures IS DISTINCT FROM c.failures`;
  return [...rows, ...days].map((r) => ({ ...r }));
}
