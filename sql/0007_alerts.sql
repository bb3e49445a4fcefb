-- Alerts (`monitor alert`): each site's incident state machine, the incidents it opened and
-- resolved, and the notifications to send about them, a transactional outbox. All three are
-- written in one transaction per change (src/db/alerts.ts), before the consumer commits its Kafka
-- offsets: a crash loses no notification, and a change written twice adds nothing, because every
-- row has a key that the same transition always gives.

-- Alert states -----------------------------------------------------------------------------------
-- One row per site: its AlertState (src/alert/state.ts) as JSON, read back at start-up. The row is
-- also the lock that orders two writers of the same site's incidents.
CREATE TABLE alert_states (
  site_id    text PRIMARY KEY CHECK (site_id <> ''),
  state      jsonb NOT NULL CHECK (jsonb_typeof(state) = 'object' AND state ->> 'siteId' = site_id),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Incidents --------------------------------------------------------------------------------------
-- One row per incident, inserted when it opens and updated once, when it resolves. The id is the
-- state machine's (`<siteId>/<kind>/<checkId>`), the same however often its events are applied.
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

-- Notifications: the outbox ----------------------------------------------------------------------
-- One row per transition and channel, written with the incident change and then sent by a loop
-- that retries with backoff until the channel accepts. The body is the Notification
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
  -- When to try next: after a failure, the backoff; while a sender holds it, the end of its lease.
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- The last failure, redacted by the sender: never a URL's token, a key or a password.
  last_error      text CHECK (length(last_error) <= 2000),
  sent_at         timestamptz,
  -- The same transition written twice (a redelivered batch, two writers) adds nothing.
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

-- Views ------------------------------------------------------------------------------------------
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
