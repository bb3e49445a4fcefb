-- Where a check was made from (message version 3): the checker's region and which checker process
-- it was ("host:pid"). Results of versions 1 and 2 were all made in the one region there was,
-- "default", by a checker they do not name. A site checked from several regions has its rollups
-- kept per region, so its uptime can be told per region as well as across them.
--
-- The checks are not rewritten nor read: a new column with a constant default is a catalog
-- change, and the default is dropped at once (rows stored before keep reading "default"; a writer
-- must name the region of every new row). The rollups' primary key gains the region, which
-- rebuilds its index on every rollup partition: 3 s for 2.4 million rollup rows (1 000 sites,
-- 100 days) on a 2-core machine, the tables locked meanwhile.

-- Checks -----------------------------------------------------------------------------------------
ALTER TABLE checks
  ADD COLUMN region  text NOT NULL DEFAULT 'default',
  ADD COLUMN checker text;
ALTER TABLE checks ALTER COLUMN region DROP DEFAULT;

-- NOT VALID: every stored row holds "default", which passes; validating would read every
-- partition for nothing. New rows are checked all the same. (The message schema is stricter:
-- REGION_PATTERN in src/check/result.ts.)
ALTER TABLE checks
  ADD CONSTRAINT checks_region_check CHECK (region <> '') NOT VALID,
  ADD CONSTRAINT checks_checker_check CHECK (checker <> '') NOT VALID;

-- Hourly rollups ---------------------------------------------------------------------------------
-- One row per site, hour and region. The region comes after the hour in the key, so that the
-- hours of a site across regions (site_uptime) are still one range of the index.
ALTER TABLE check_rollups_hourly ADD COLUMN region text NOT NULL DEFAULT 'default';
ALTER TABLE check_rollups_hourly ALTER COLUMN region DROP DEFAULT;
ALTER TABLE check_rollups_hourly
  DROP CONSTRAINT check_rollups_hourly_pkey,
  ADD PRIMARY KEY (site_id, hour, region);

-- Views ------------------------------------------------------------------------------------------
-- The same columns as 0005, then the new ones.
CREATE OR REPLACE VIEW check_results AS
SELECT
  c.check_id,
  c.site_id AS site,
  v.name AS site_name,
  v.url,
  c.checked_at,
  c.response_time_ms,
  c.time_to_headers_ms,
  c.status_code,
  v.pattern,
  c.pattern_matched,
  c.cert_expires_at,
  (extract(epoch FROM c.cert_expires_at - c.checked_at) / 86400)::double precision
    AS cert_days_left,
  c.up,
  c.error_kind AS error,
  c.error_message,
  c.dns_ms,
  c.connect_ms,
  c.tls_ms,
  c.first_byte_ms,
  c.transfer_ms,
  c.remote_address,
  c.http_version,
  c.tls_version,
  c.region,
  c.checker
FROM checks AS c
JOIN site_versions AS v ON v.version_id = c.site_version_id;

-- site_uptime (0005) is unchanged: it sums a site's rollups of every region, so it stays one row
-- per site and window, across regions, and every query of it keeps its meaning.

-- The same figures per region: site_uptime's columns with `region` after `site_name`, one row per
-- site, region and window for each region that checked the site in the last 30 days (a region
-- that stopped checking shows as no checks in the short windows rather than vanishing).
CREATE VIEW site_uptime_by_region AS
SELECT
  p.site_id AS site,
  s.name AS site_name,
  p.region,
  w.window_name AS "window",
  w.since,
  coalesce(sum(r.checks), 0)::bigint AS checks,
  coalesce(sum(r.failures), 0)::bigint AS failures,
  (sum(r.checks - r.failures)::double precision / nullif(sum(r.checks), 0)) AS uptime,
  (sum(r.response_time_ms_sum) / nullif(sum(r.responses), 0)) AS response_time_ms_avg,
  monitor_histogram_quantile(monitor_histogram_sum(r.response_time_histogram), 0.50)
    AS response_time_ms_p50,
  monitor_histogram_quantile(monitor_histogram_sum(r.response_time_histogram), 0.95)
    AS response_time_ms_p95,
  monitor_histogram_quantile(monitor_histogram_sum(r.response_time_histogram), 0.99)
    AS response_time_ms_p99,
  (sum(r.dns_ms_sum) / nullif(sum(r.dns_ms_count), 0)) AS dns_ms_avg,
  (sum(r.connect_ms_sum) / nullif(sum(r.connect_ms_count), 0)) AS connect_ms_avg,
  (sum(r.tls_ms_sum) / nullif(sum(r.tls_ms_count), 0)) AS tls_ms_avg,
  (sum(r.first_byte_ms_sum) / nullif(sum(r.first_byte_ms_count), 0)) AS first_byte_ms_avg,
  (sum(r.transfer_ms_sum) / nullif(sum(r.transfer_ms_count), 0)) AS transfer_ms_avg
FROM (
  SELECT DISTINCT site_id, region
  FROM check_rollups_hourly
  WHERE hour >= date_trunc('hour', now(), 'UTC') - interval '720 hours'
) AS p
JOIN sites AS s ON s.site_id = p.site_id
CROSS JOIN (VALUES
  ('1h', date_trunc('hour', now(), 'UTC') - interval '1 hour'),
  ('24h', date_trunc('hour', now(), 'UTC') - interval '24 hours'),
  ('7d', date_trunc('hour', now(), 'UTC') - interval '168 hours'),
  ('30d', date_trunc('hour', now(), 'UTC') - interval '720 hours')
) AS w(window_name, since)
-- (The second bound is where the longest window starts, stated so that PostgreSQL reads only the
-- rollup partitions of the last 30 days: w.since alone does not prune them.)
LEFT JOIN check_rollups_hourly AS r
  ON r.site_id = p.site_id AND r.region = p.region AND r.hour >= w.since
     AND r.hour >= date_trunc('hour', now(), 'UTC') - interval '720 hours'
GROUP BY p.site_id, s.name, p.region, w.window_name, w.since;
