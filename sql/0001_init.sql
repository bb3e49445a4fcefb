-- The initial schema. Applied once by `monitor migrate`, in one transaction; never edit a file
-- that has been released: add the next NNNN_*.sql instead.

-- One row per check, written by `monitor consume`. Column meanings follow the message format
-- (schema/check_result.v1.json).
CREATE TABLE checks (
  check_id           uuid PRIMARY KEY,
  site_id            text NOT NULL,
  site_name          text NOT NULL,
  url                text NOT NULL,
  checked_at         timestamptz NOT NULL,
  time_to_headers_ms double precision CHECK (time_to_headers_ms >= 0),
  response_time_ms   double precision CHECK (response_time_ms >= 0),
  status_code        integer CHECK (status_code BETWEEN 100 AND 999),
  pattern            text,
  pattern_matched    boolean,
  cert_expires_at    timestamptz,
  up                 boolean NOT NULL,
  error_kind         text,
  error_message      text,
  message_version    smallint NOT NULL,
  stored_at          timestamptz NOT NULL DEFAULT now(),
  CHECK ((error_kind IS NULL) = up),
  CHECK (pattern IS NOT NULL OR pattern_matched IS NULL)
);

CREATE INDEX checks_site_id_checked_at ON checks (site_id, checked_at DESC);
CREATE INDEX checks_checked_at ON checks USING brin (checked_at);

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

-- The stable surface for queries and dashboards: columns are only ever added here.
CREATE VIEW check_results AS
SELECT
  check_id,
  site_id AS site,
  site_name,
  url,
  checked_at,
  response_time_ms,
  time_to_headers_ms,
  status_code,
  pattern,
  pattern_matched,
  cert_expires_at,
  (extract(epoch FROM cert_expires_at - checked_at) / 86400)::double precision AS cert_days_left,
  up,
  error_kind AS error,
  error_message
FROM checks;
