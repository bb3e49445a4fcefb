-- The record says what was checked. Since 0002 a check took its site's name, URL and pattern from
-- `sites`, which holds only the latest: a site whose URL changed rewrote its whole history. Now
-- each check points at the version of its site's configuration it ran with. A version is stored
-- once (16 bytes a check, not a copy of the URL) and its id is derived from its content, so every
-- writer finds the same id without asking the database.

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

-- Checks stored before this migration: their site's configuration as it is now is all that is
-- known of them.
INSERT INTO site_versions (version_id, site_id, name, url, pattern)
SELECT monitor_site_version_id(site_id, name, url, pattern), site_id, name, url, pattern
FROM sites;

ALTER TABLE checks ADD COLUMN site_version_id uuid;
UPDATE checks AS c
SET site_version_id = monitor_site_version_id(s.site_id, s.name, s.url, s.pattern)
FROM sites AS s
WHERE s.site_id = c.site_id;
ALTER TABLE checks ALTER COLUMN site_version_id SET NOT NULL;

-- first_checked_at was the latest check of a site's first batch; the earliest stored is right.
UPDATE sites AS s
SET first_checked_at = c.first_checked_at
FROM (SELECT site_id, min(checked_at) AS first_checked_at FROM checks GROUP BY site_id) AS c
WHERE c.site_id = s.site_id AND c.first_checked_at < s.first_checked_at;

-- The same columns, now as they were when each check ran.
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
  c.error_message
FROM checks AS c
JOIN site_versions AS v ON v.version_id = c.site_version_id;
