-- The schema, applied by `monitor migrate` in one transaction. Until the first release this is the
-- only file and it is edited in place (a development database is recreated: `deno task
-- services:reset`); from the first release on, a released file is never edited again and a change
-- goes in the next NNNN_*.sql.
--
-- Raw checks are range-partitioned by day and dropped a whole day at a time (`monitor prune`);
-- per-site hourly and daily rollups, partitioned by month, outlive them. Partitions are created ahead of time
-- by monitor_ensure_partitions(), which `monitor migrate` and `monitor consume` call: no extension
-- is needed, so managed services run this as it is.

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

-- histogram with one more response in each of the buckets listed (a bucket twice: two more). The
-- writer adds a batch to an hourly rollup this way: one entry per response, usually one or two.
CREATE FUNCTION monitor_histogram_add_buckets(histogram integer[], buckets integer[])
RETURNS integer[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  bucket integer;
  size integer := coalesce(cardinality(histogram), 0);
BEGIN
  FOREACH bucket IN ARRAY coalesce(buckets, '{}') LOOP
    IF bucket > size THEN
      histogram := coalesce(histogram, '{}') || array_fill(0, ARRAY[bucket - size]);
      size := bucket;
    END IF;
    histogram[bucket] := histogram[bucket] + 1;
  END LOOP;
  RETURN coalesce(histogram, '{}');
END
$$;

-- The sum of two histograms, in a loop: about 2.5 times faster than unnest.
CREATE FUNCTION monitor_histogram_merge(a integer[], b integer[])
RETURNS integer[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF coalesce(cardinality(a), 0) < coalesce(cardinality(b), 0) THEN
    RETURN monitor_histogram_merge(b, a);
  END IF;
  FOR i IN 1..coalesce(cardinality(b), 0) LOOP
    a[i] := a[i] + b[i];
  END LOOP;
  RETURN coalesce(a, '{}');
END
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

-- The record says what was checked: each check points at the version of its site's configuration
-- it ran with. A version is stored once (16 bytes a check, not a copy of the URL) and its id is
-- derived from its content, so every writer finds the same id without asking the database.
CREATE TABLE site_versions (
  version_id uuid PRIMARY KEY,
  site_id    text NOT NULL,
  name       text NOT NULL,
  url        text NOT NULL,
  pattern    text
);

-- The id of a version: the first 128 bits of the SHA-256 of its fields, as a JSON array (so no
-- two different versions are written alike). STABLE, as what it calls (convert_to): PostgreSQL
-- then inlines it into the writer's statement, three times cheaper than a call per row.
CREATE FUNCTION monitor_site_version_id(site_id text, name text, url text, pattern text)
RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT substr(encode(sha256(convert_to(json_build_array(site_id, name, url, pattern)::text,
                                         'UTF8')), 'hex'), 1, 32)::uuid
$$;

-- Checks, partitioned by day (UTC) ---------------------------------------------------------------
-- One row per check, written by `monitor consume`; the columns follow the message format
-- (schema/check_result.v1.json). Each phase's time is summed over redirect hops, null when the
-- phase did not happen (no DNS for an IP address, no TLS for http or a failure before it). The
-- certificate's subject, issuer and alternative names stay in the message only: hundreds of bytes
-- a check, at 10 000 sites a minute, for facts that change a few times a year.
CREATE TABLE checks (
  check_id           uuid NOT NULL,
  site_id            text NOT NULL,
  site_version_id    uuid NOT NULL,
  checked_at         timestamptz NOT NULL,
  -- Where the check was made from, and which checker process made it ("host:pid").
  region             text NOT NULL CHECK (region <> ''),
  checker            text NOT NULL CHECK (checker <> ''),
  time_to_headers_ms double precision CHECK (time_to_headers_ms >= 0),
  response_time_ms   double precision CHECK (response_time_ms >= 0),
  dns_ms             double precision CHECK (dns_ms >= 0),
  connect_ms         double precision CHECK (connect_ms >= 0),
  tls_ms             double precision CHECK (tls_ms >= 0),
  first_byte_ms      double precision CHECK (first_byte_ms >= 0),
  transfer_ms        double precision CHECK (transfer_ms >= 0),
  status_code        integer CHECK (status_code BETWEEN 100 AND 999),
  pattern_matched    boolean,
  cert_expires_at    timestamptz,
  -- What answered: its address, and the HTTP and TLS versions.
  remote_address     inet,
  http_version       text,
  tls_version        text,
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
-- One row per site, hour and region, maintained by the writer in the same statement that inserts
-- the checks, from the rows that statement really inserted, so a redelivered batch changes
-- nothing. The region comes after the hour in the key, so that the hours of a site across regions
-- (site_uptime) are one range of the index.
CREATE TABLE check_rollups_hourly (
  site_id                 text NOT NULL,
  hour                    timestamptz NOT NULL,
  region                  text NOT NULL,
  checks                  integer NOT NULL,
  failures                integer NOT NULL,
  -- checks with a complete response, whose times are in the histogram
  responses               integer NOT NULL,
  response_time_ms_sum    double precision NOT NULL,
  response_time_histogram integer[] NOT NULL,
  -- Per phase, the number of checks that had it and the sum of its times: an average over any
  -- range of hours divides by the checks that had the phase, not by all of them.
  dns_ms_count            integer NOT NULL DEFAULT 0,
  dns_ms_sum              double precision NOT NULL DEFAULT 0,
  connect_ms_count        integer NOT NULL DEFAULT 0,
  connect_ms_sum          double precision NOT NULL DEFAULT 0,
  tls_ms_count            integer NOT NULL DEFAULT 0,
  tls_ms_sum              double precision NOT NULL DEFAULT 0,
  first_byte_ms_count     integer NOT NULL DEFAULT 0,
  first_byte_ms_sum       double precision NOT NULL DEFAULT 0,
  transfer_ms_count       integer NOT NULL DEFAULT 0,
  transfer_ms_sum         double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, hour, region)
) PARTITION BY RANGE (hour);

-- Daily rollups, partitioned by month (UTC) ------------------------------------------------------
-- Checks and failures per site and UTC day, all regions together, maintained by the writer in the
-- same statement as the hourly ones, from the same inserted rows: 90 rows a site for 90 days
-- instead of 2,160 per region, for the uptime windows of days and the status page's day bar.
-- (A site's results share a Kafka key, so one writer at a time adds to its row; during a rebalance
-- two may, and a statement undone by the other's deadlock goes again, as for the hourly rows.)
CREATE TABLE check_rollups_daily (
  site_id  text NOT NULL,
  day      timestamptz NOT NULL,
  checks   integer NOT NULL,
  failures integer NOT NULL,
  PRIMARY KEY (site_id, day)
) PARTITION BY RANGE (day);

-- Partitions -------------------------------------------------------------------------------------
-- Creates the daily `checks` partitions for every day from `from_day` to `to_day` (UTC) and the
-- monthly partitions of both rollup tables around them; returns the names it created. Safe to call
-- from several processes at once.
CREATE FUNCTION monitor_ensure_partitions(from_day date, to_day date)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  day date;
  month date;
  rollups text;
  fill integer;
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
  -- A daily row is updated by every batch all day: its pages are left 90 % free, so that its new
  -- versions stay on the page (HOT, no index entry): the writer's statement costs 1.07 to 1.16
  -- times what it did without daily rollups, not 1.45 (about 2 GB for 10,000 sites over 400 days,
  -- a thirtieth of their hourly rollups). An hourly row is updated for an hour only.
  FOR month, rollups, fill IN
    SELECT m::date, t, f
    FROM generate_series(date_trunc('month', from_day), date_trunc('month', to_day),
                         interval '1 month') AS m,
         (VALUES ('check_rollups_hourly', 100), ('check_rollups_daily', 10)) AS r(t, f)
  LOOP
    name := rollups || '_' || to_char(month, 'YYYYMM');
    IF to_regclass(quote_ident(name)) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L) WITH (fillfactor = %s)',
        name, rollups, month::timestamp AT TIME ZONE 'UTC',
        (month + interval '1 month')::timestamp AT TIME ZONE 'UTC', fill);
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

-- Messages on the topic that are not check results this version can read. Kept, not dropped, so
-- nothing is lost silently; one row per Kafka message.
CREATE TABLE rejected_messages (
  topic        text NOT NULL,
  partition    integer NOT NULL,
  kafka_offset bigint NOT NULL,
  message_key  bytea,
  message      bytea,
  reason       text NOT NULL,
  stored_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition, kafka_offset)
);

-- Alerts (`monitor alert`) -----------------------------------------------------------------------
-- Each site's incident state machine, the incidents it opened and resolved, and the notifications
-- to send about them, a transactional outbox. All three are written in one transaction per change
-- (src/db/alerts.ts), before the consumer commits its Kafka offsets: a crash loses no
-- notification, and a change written twice adds nothing, because every row has a key that the
-- same transition always gives.

-- One row per site: its AlertState (src/alert/state.ts) as JSON, read back at start-up by the one
-- alerter at work (an advisory lock per consumer group, src/db/alerts.ts).
CREATE TABLE alert_states (
  site_id    text PRIMARY KEY CHECK (site_id <> ''),
  state      jsonb NOT NULL CHECK (jsonb_typeof(state) = 'object' AND state ->> 'siteId' = site_id),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per incident, inserted when it opens and updated once, when it resolves. The id is the
-- state machine's (`<siteId>/<kind>/<checkId>`, or `<siteId>/stale/after-<checkId>`), the same
-- however often its events are applied.
CREATE TABLE incidents (
  incident_id            text PRIMARY KEY CHECK (incident_id <> '' AND length(incident_id) <= 255),
  site_id                text NOT NULL CHECK (site_id <> ''),
  kind                   text NOT NULL CHECK (kind IN ('down', 'degraded', 'stale')),
  severity               text NOT NULL CHECK (severity IN ('critical', 'error', 'warning')),
  -- The regions that saw the site down (or slow) when it opened; for stale, those last heard of.
  regions                text[] NOT NULL CHECK (array_position(regions, NULL) IS NULL),
  opened_at              timestamptz NOT NULL,
  -- The check that completed the quorum; stale incidents open on silence, not on a check.
  opened_by_check_id     uuid,
  -- Why it opened, from the check that opened it (the error kind for down only).
  cause_error_kind       text CHECK (cause_error_kind <> ''),
  cause_status_code      integer CHECK (cause_status_code BETWEEN 100 AND 999),
  cause_response_time_ms double precision CHECK (cause_response_time_ms >= 0),
  cause_message          text NOT NULL,
  -- Null while open. Resolved by a check; by hand (resolved_at alone) only to repair.
  resolved_at            timestamptz,
  resolved_by_check_id   uuid,
  CHECK (resolved_at >= opened_at),
  CHECK (resolved_by_check_id IS NULL OR resolved_at IS NOT NULL),
  CHECK ((opened_by_check_id IS NULL) = (kind = 'stale')),
  CHECK (cause_error_kind IS NULL OR kind = 'down')
);

-- The state machine keeps at most one open incident of each kind per site: so does the table.
CREATE UNIQUE INDEX incidents_open ON incidents (site_id, kind) WHERE resolved_at IS NULL;
-- A site's history, and everyone's, newest first.
CREATE INDEX incidents_site_id_opened_at ON incidents (site_id, opened_at DESC);
CREATE INDEX incidents_opened_at ON incidents (opened_at DESC);

-- The outbox: one row per transition and channel, written with the incident change and then sent
-- by the alerter's loop for the channel, which retries with backoff until the channel accepts (a
-- notification sent but not marked so, in a crash, is sent again). The body is the Notification
-- (src/alert/notification.ts), the generic webhook's JSON, kept as it was when the change happened.
CREATE TABLE notifications (
  notification_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- `<incidentId>/<opened|resolved>`: receivers drop a key they have seen.
  idempotency_key text NOT NULL CHECK (idempotency_key <> ''),
  -- The channel's name in the alerts configuration.
  channel         text NOT NULL CHECK (channel <> ''),
  incident_id     text NOT NULL REFERENCES incidents,
  transition      text NOT NULL CHECK (transition IN ('opened', 'resolved')),
  body            jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- Failed deliveries so far (a delivery cut short by a crash is not counted).
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- When to try next: its creation, then after each failure the backoff.
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- The last failure, redacted by the sender: never a URL's token, a key or a password.
  last_error      text CHECK (length(last_error) <= 2000),
  sent_at         timestamptz,
  -- The same transition written twice (a redelivered batch) adds nothing.
  UNIQUE (idempotency_key, channel),
  CHECK (body ->> 'idempotencyKey' = idempotency_key),
  CHECK (body ->> 'incidentId' = incident_id),
  CHECK (body ->> 'transition' = transition)
);

-- What is due, and whether an earlier notification of the same incident is still unsent: both
-- read the few unsent rows only.
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX notifications_unsent_incident ON notifications (incident_id, channel)
  WHERE sent_at IS NULL;

-- Views: the stable surface for queries and dashboards; columns are only ever added -------------

-- Every check as it was made, with its site's configuration as it was then.
CREATE VIEW check_results AS
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

-- Uptime, response-time percentiles and each phase's average per site over the last hour, day,
-- week and 30 days, across regions, from the hourly rollups: a window is that many whole hours
-- before the current one, plus the current one so far (`since` says where it starts). Percentiles
-- are within 4.5 % of percentile_disc(); a phase's average is over the checks that had it.
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
    AS response_time_ms_p99,
  (sum(r.dns_ms_sum) / nullif(sum(r.dns_ms_count), 0)) AS dns_ms_avg,
  (sum(r.connect_ms_sum) / nullif(sum(r.connect_ms_count), 0)) AS connect_ms_avg,
  (sum(r.tls_ms_sum) / nullif(sum(r.tls_ms_count), 0)) AS tls_ms_avg,
  (sum(r.first_byte_ms_sum) / nullif(sum(r.first_byte_ms_count), 0)) AS first_byte_ms_avg,
  (sum(r.transfer_ms_sum) / nullif(sum(r.transfer_ms_count), 0)) AS transfer_ms_avg
FROM sites AS s
CROSS JOIN (VALUES
  ('1h', date_trunc('hour', now(), 'UTC') - interval '1 hour'),
  ('24h', date_trunc('hour', now(), 'UTC') - interval '24 hours'),
  ('7d', date_trunc('hour', now(), 'UTC') - interval '168 hours'),
  ('30d', date_trunc('hour', now(), 'UTC') - interval '720 hours')
) AS w(window_name, since)
LEFT JOIN check_rollups_hourly AS r ON r.site_id = s.site_id AND r.hour >= w.since
GROUP BY s.site_id, s.name, w.window_name, w.since;

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

-- The incidents open now, and for how long. site_name is null for a site never checked.
CREATE VIEW open_incidents AS
SELECT
  i.incident_id,
  i.site_id AS site,
  s.name AS site_name,
  i.kind,
  i.severity,
  i.regions,
  i.opened_at,
  now() - i.opened_at AS open_for,
  i.opened_by_check_id,
  i.cause_error_kind,
  i.cause_status_code,
  i.cause_response_time_ms,
  i.cause_message
FROM incidents AS i
LEFT JOIN sites AS s USING (site_id)
WHERE i.resolved_at IS NULL
ORDER BY i.opened_at DESC, i.incident_id;

-- Every incident, newest first, with how long it lasted (so far, while open).
CREATE VIEW incident_history AS
SELECT
  i.incident_id,
  i.site_id AS site,
  s.name AS site_name,
  i.kind,
  i.severity,
  i.regions,
  i.opened_at,
  i.resolved_at,
  coalesce(i.resolved_at, now()) - i.opened_at AS duration,
  i.resolved_at IS NULL AS open,
  i.opened_by_check_id,
  i.resolved_by_check_id,
  i.cause_error_kind,
  i.cause_status_code,
  i.cause_response_time_ms,
  i.cause_message
FROM incidents AS i
LEFT JOIN sites AS s USING (site_id)
ORDER BY i.opened_at DESC, i.incident_id;
