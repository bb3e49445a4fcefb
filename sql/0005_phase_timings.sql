-- Where a check's time went, and what answered (message version 2): each phase's time, summed
-- over redirect hops, null when the phase did not happen (no DNS for an IP address, no TLS for
-- http or a failure before it); the address that answered; the HTTP and TLS versions. The
-- certificate's subject, issuer and alternative names stay in the message only: hundreds of bytes
-- a check, at 10 000 sites a minute, for facts that change a few times a year.
--
-- Nothing is rewritten and no row is read: new nullable columns, and zero-default ones in the
-- rollups, are catalog changes, so this runs in milliseconds however many checks are stored.

-- Checks -----------------------------------------------------------------------------------------
ALTER TABLE checks
  ADD COLUMN dns_ms         double precision,
  ADD COLUMN connect_ms     double precision,
  ADD COLUMN tls_ms         double precision,
  ADD COLUMN first_byte_ms  double precision,
  ADD COLUMN transfer_ms    double precision,
  ADD COLUMN remote_address inet,
  ADD COLUMN http_version   text,
  ADD COLUMN tls_version    text;

-- NOT VALID: every stored row holds null here, which passes; validating would read every partition
-- under an exclusive lock for nothing. New rows are checked all the same.
ALTER TABLE checks
  ADD CONSTRAINT checks_dns_ms_check CHECK (dns_ms >= 0) NOT VALID,
  ADD CONSTRAINT checks_connect_ms_check CHECK (connect_ms >= 0) NOT VALID,
  ADD CONSTRAINT checks_tls_ms_check CHECK (tls_ms >= 0) NOT VALID,
  ADD CONSTRAINT checks_first_byte_ms_check CHECK (first_byte_ms >= 0) NOT VALID,
  ADD CONSTRAINT checks_transfer_ms_check CHECK (transfer_ms >= 0) NOT VALID;

-- Hourly rollups ---------------------------------------------------------------------------------
-- Per phase, the number of checks that had it and the sum of its times: an average over any range
-- of hours divides by the checks that had the phase, not by all of them. Hours rolled up before
-- this migration count no phase (their checks recorded none). The defaults also let a writer of
-- the previous version go on adding rollups until it is replaced.
ALTER TABLE check_rollups_hourly
  ADD COLUMN dns_ms_count        integer NOT NULL DEFAULT 0,
  ADD COLUMN dns_ms_sum          double precision NOT NULL DEFAULT 0,
  ADD COLUMN connect_ms_count    integer NOT NULL DEFAULT 0,
  ADD COLUMN connect_ms_sum      double precision NOT NULL DEFAULT 0,
  ADD COLUMN tls_ms_count        integer NOT NULL DEFAULT 0,
  ADD COLUMN tls_ms_sum          double precision NOT NULL DEFAULT 0,
  ADD COLUMN first_byte_ms_count integer NOT NULL DEFAULT 0,
  ADD COLUMN first_byte_ms_sum   double precision NOT NULL DEFAULT 0,
  ADD COLUMN transfer_ms_count   integer NOT NULL DEFAULT 0,
  ADD COLUMN transfer_ms_sum     double precision NOT NULL DEFAULT 0;

-- Views ------------------------------------------------------------------------------------------
-- The same columns as 0004, then the new ones.
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
  c.tls_version
FROM checks AS c
JOIN site_versions AS v ON v.version_id = c.site_version_id;

-- The same columns as 0002, then each phase's average over the checks of the window that had it.
CREATE OR REPLACE VIEW site_uptime AS
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
