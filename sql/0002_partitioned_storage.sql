-- Storage for years of checks. Raw checks are range-partitioned by day and dropped a whole day at
-- a time (`monitor prune`), per-site hourly rollups (partitioned by month) outlive them, and sites
-- are kept in their own table, upserted from the messages. Rows already stored by 0001 are moved.
--
-- Partitions are created ahead of time by monitor_ensure_partitions(), which `monitor migrate`
-- and `monitor consume` call; no extension is needed, so managed services can run this as is.

-- Response-time histograms ----------------------------------------------------------------------
-- Percentiles cannot be added up, histograms can: an hour's histogram is merged with others into
-- a day's or a month's. Bucket 1 holds [0, 1) ms; bucket k >= 2 holds [2^((k-2)/8), 2^((k-1)/8))
-- ms, 9 % wide, so the middle of a bucket is within 4.5 % of every value in it. Bucket 138 (from
-- 2^17 ms, about 131 s) holds everything slower. A histogram is an integer[] of counts, index =
-- bucket, without trailing zeros.

CREATE FUNCTION monitor_response_bucket(ms double precision) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN ms < 1 THEN 1 ELSE least(138, 2 + floor(8 * ln(ms) / ln(2))::integer) END
$$;

-- The value a bucket stands for: its geometric middle (0.5 ms for bucket 1, the lower bound for
-- the open-ended last bucket).
CREATE FUNCTION monitor_bucket_value(bucket integer) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE
    WHEN bucket <= 1 THEN 0.5
    WHEN bucket >= 138 THEN 131072
    ELSE power(2::float8, (bucket - 1.5)::float8 / 8)
  END
$$;

CREATE FUNCTION monitor_histogram_add(histogram integer[], ms double precision)
RETURNS integer[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  bucket integer := monitor_response_bucket(ms);
  size integer := coalesce(array_length(histogram, 1), 0);
BEGIN
  IF bucket IS NULL THEN
    RETURN histogram;
  END IF;
  IF bucket > size THEN
    histogram := histogram || array_fill(0, ARRAY[bucket - size]);
  END IF;
  histogram[bucket] := histogram[bucket] + 1;
  RETURN histogram;
END
$$;

CREATE FUNCTION monitor_histogram_merge(a integer[], b integer[])
RETURNS integer[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i), '{}')
  FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)
$$;

-- monitor_histogram(response_time_ms): the histogram of a set of response times (nulls skipped).
CREATE AGGREGATE monitor_histogram(double precision) (
  SFUNC = monitor_histogram_add,
  STYPE = integer[],
  INITCOND = '{}'
);

-- monitor_histogram_sum(histogram): histograms merged.
CREATE AGGREGATE monitor_histogram_sum(integer[]) (
  SFUNC = monitor_histogram_merge,
  STYPE = integer[],
  INITCOND = '{}'
);

-- The q-quantile (0 < q <= 1) of a histogram, as percentile_disc() defines it on the raw values:
-- the value of the first bucket whose cumulative count reaches q of the total. Null when empty.
CREATE FUNCTION monitor_histogram_quantile(histogram integer[], q double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT monitor_bucket_value(bucket::integer)
  FROM (
    SELECT bucket, sum(n) OVER (ORDER BY bucket) AS cumulative, sum(n) OVER () AS total
    FROM unnest(histogram) WITH ORDINALITY AS t(n, bucket)
  ) AS running
  WHERE total > 0 AND cumulative >= q * total
  ORDER BY bucket
  LIMIT 1
$$;

-- Sites ------------------------------------------------------------------------------------------
-- One row per site id seen on the topic, with its latest name, URL and pattern. A site whose URL
-- changes keeps its history; give it a new id to start a new one.
CREATE TABLE sites (
  site_id          text PRIMARY KEY,
  name             text NOT NULL,
  url              text NOT NULL,
  pattern          text,
  first_checked_at timestamptz NOT NULL,
  -- checked_at of the first check that carried the current name, URL and pattern
  changed_at       timestamptz NOT NULL
);

-- Checks, partitioned by day (UTC) ---------------------------------------------------------------
DROP VIEW check_results;
ALTER TABLE checks RENAME TO checks_0001;
ALTER TABLE checks_0001 RENAME CONSTRAINT checks_pkey TO checks_0001_pkey;
DROP INDEX checks_site_id_checked_at, checks_checked_at;

CREATE TABLE checks (
  check_id           uuid NOT NULL,
  site_id            text NOT NULL,
  checked_at         timestamptz NOT NULL,
  time_to_headers_ms double precision CHECK (time_to_headers_ms >= 0),
  response_time_ms   double precision CHECK (response_time_ms >= 0),
  status_code        integer CHECK (status_code BETWEEN 100 AND 999),
  pattern_matched    boolean,
  cert_expires_at    timestamptz,
  up                 boolean NOT NULL,
  error_kind         text,
  error_message      text,
  message_version    smallint NOT NULL,
  stored_at          timestamptz NOT NULL DEFAULT now(),
  CHECK ((error_kind IS NULL) = up),
  -- A unique key of a partitioned table must contain the partition key. checked_at travels in the
  -- message with the id, so a redelivered check still collides with itself.
  PRIMARY KEY (check_id, checked_at)
) PARTITION BY RANGE (checked_at);

-- "Latest result per site" and "a site's history over a window".
CREATE INDEX checks_site_id_checked_at ON checks (site_id, checked_at DESC);

-- Hourly rollups, partitioned by month (UTC) -----------------------------------------------------
-- Maintained by the writer in the same statement that inserts the checks, from the rows that
-- statement really inserted, so a redelivered batch changes nothing.
CREATE TABLE check_rollups_hourly (
  site_id                 text NOT NULL,
  hour                    timestamptz NOT NULL,
  checks                  integer NOT NULL,
  failures                integer NOT NULL,
  -- checks with a complete response, whose times are in the histogram
  responses               integer NOT NULL,
  response_time_ms_sum    double precision NOT NULL,
  response_time_histogram integer[] NOT NULL,
  PRIMARY KEY (site_id, hour)
) PARTITION BY RANGE (hour);

-- Partitions -------------------------------------------------------------------------------------
-- Creates the daily `checks` partitions for every day from `from_day` to `to_day` (UTC) and the
-- monthly rollup partitions around them; returns the names it created. Safe to call from several
-- processes at once.
CREATE FUNCTION monitor_ensure_partitions(from_day date, to_day date)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  day date;
  month date;
  name text;
BEGIN
  -- Two callers creating the same partition would otherwise collide.
  PERFORM pg_advisory_xact_lock(2003398254, 1);
  FOR day IN SELECT generate_series(from_day, to_day, interval '1 day')::date LOOP
    name := 'checks_' || to_char(day, 'YYYYMMDD');
    IF to_regclass(quote_ident(name)) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF checks FOR VALUES FROM (%L) TO (%L)',
        name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
      RETURN NEXT name;
    END IF;
  END LOOP;
  FOR month IN
    SELECT generate_series(date_trunc('month', from_day), date_trunc('month', to_day),
                           interval '1 month')::date
  LOOP
    name := 'check_rollups_hourly_' || to_char(month, 'YYYYMM');
    IF to_regclass(quote_ident(name)) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF check_rollups_hourly FOR VALUES FROM (%L) TO (%L)',
        name, month::timestamp AT TIME ZONE 'UTC',
        (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
      RETURN NEXT name;
    END IF;
  END LOOP;
END
$$;

-- Drops, whole, the partitions of `parent` whose upper bound is at or before `cutoff`; returns
-- their names. Nothing is deleted row by row, so nothing bloats.
CREATE FUNCTION monitor_drop_partitions(parent regclass, cutoff timestamptz)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  child text;
BEGIN
  PERFORM pg_advisory_xact_lock(2003398254, 1);
  FOR child IN
    SELECT c.oid::regclass::text
    FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhparent = parent
      AND substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([^'']+)''\)')::timestamptz
          <= cutoff
    ORDER BY c.relname
  LOOP
    EXECUTE 'DROP TABLE ' || child; -- a regclass's text is already quoted where needed
    RETURN NEXT child;
  END LOOP;
END
$$;

-- Rows of 0001 move into the new tables ----------------------------------------------------------
SELECT count(*) FROM monitor_ensure_partitions(
  coalesce((SELECT min(checked_at) FROM checks_0001), now())::date,
  coalesce((SELECT max(checked_at) FROM checks_0001), now())::date
);

INSERT INTO sites (site_id, name, url, pattern, first_checked_at, changed_at)
SELECT DISTINCT ON (site_id) site_id, site_name, url, pattern,
  min(checked_at) OVER (PARTITION BY site_id), checked_at
FROM checks_0001
ORDER BY site_id, checked_at DESC;

INSERT INTO checks (check_id, site_id, checked_at, time_to_headers_ms, response_time_ms,
                    status_code, pattern_matched, cert_expires_at, up, error_kind, error_message,
                    message_version, stored_at)
SELECT check_id, site_id, checked_at, time_to_headers_ms, response_time_ms, status_code,
       pattern_matched, cert_expires_at, up, error_kind, error_message, message_version, stored_at
FROM checks_0001;

INSERT INTO check_rollups_hourly
SELECT site_id, date_trunc('hour', checked_at, 'UTC'), count(*), count(*) FILTER (WHERE NOT up),
       count(response_time_ms), coalesce(sum(response_time_ms), 0), monitor_histogram(response_time_ms)
FROM checks
GROUP BY 1, 2;

DROP TABLE checks_0001;

-- Views ------------------------------------------------------------------------------------------
-- The stable surface for queries and dashboards: columns are only ever added here.
CREATE VIEW check_results AS
SELECT
  c.check_id,
  c.site_id AS site,
  s.name AS site_name,
  s.url,
  c.checked_at,
  c.response_time_ms,
  c.time_to_headers_ms,
  c.status_code,
  s.pattern,
  c.pattern_matched,
  c.cert_expires_at,
  (extract(epoch FROM c.cert_expires_at - c.checked_at) / 86400)::double precision
    AS cert_days_left,
  c.up,
  c.error_kind AS error,
  c.error_message
FROM checks AS c
JOIN sites AS s USING (site_id);

-- Uptime and response-time percentiles per site over the last hour, day, week and 30 days, from
-- the hourly rollups: a window is that many whole hours before the current one, plus the current
-- one so far (`since` says where it starts). Percentiles are within 4.5 % of percentile_disc().
CREATE VIEW site_uptime AS
SELECT
  s.site_id AS site,
  s.name AS site_name,
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
    AS response_time_ms_p99
FROM sites AS s
CROSS JOIN (VALUES
  ('1h', date_trunc('hour', now(), 'UTC') - interval '1 hour'),
  ('24h', date_trunc('hour', now(), 'UTC') - interval '24 hours'),
  ('7d', date_trunc('hour', now(), 'UTC') - interval '168 hours'),
  ('30d', date_trunc('hour', now(), 'UTC') - interval '720 hours')
) AS w(window_name, since)
LEFT JOIN check_rollups_hourly AS r ON r.site_id = s.site_id AND r.hour >= w.since
GROUP BY s.site_id, s.name, w.window_name, w.since;
