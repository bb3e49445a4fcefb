/**
 * Storing alerts: states, incidents and the outbox of notifications, a change in one transaction
 * with every row keyed by its transition, so a crash neither loses nor repeats a notification.
 *
 * @module
 */
import type postgres from "postgres";
import type { AlertChange } from "../alert/decide.ts";
import type { OutboxEntry } from "../alert/deliver.ts";
import { SEVERITIES } from "../alert/notification.ts";
import {
  type AlertState,
  alertStateSchema,
  type Incident,
  type Transition,
} from "../alert/state.ts";
import { ServiceError } from "../errors.ts";
import { issueLine, printable } from "../text.ts";
import type { Sql } from "./client.ts";

/**
 * The stored alert state of every site, by site id. Throws a {@link ServiceError} naming every site
 * whose state is not valid: starting it afresh would forget its open incidents.
 */
export async function loadAlertStates(sql: Sql): Promise<Map<string, AlertState>> {
  const rows = await sql<{ site_id: string; state: unknown }[]>`
    SELECT site_id, state FROM alert_states ORDER BY site_id`;
  const states = new Map<string, AlertState>();
  const unreadable: string[] = [];
  for (const row of rows) {
    const parsed = alertStateSchema.safeParse(row.state);
    if (parsed.success) states.set(row.site_id, parsed.data);
    else unreadable.push(`site "${row.site_id}": ${issueLine(parsed.error.issues[0]!)}`);
  }
  if (unreadable.length > 0) {
    throw new ServiceError(
      `Cannot read the alert state stored for ${
        unreadable.join("; ")
      }: run the version of monitor that wrote it, or repair it in alert_states`,
    );
  }
  return states;
}

/**
 * Writes a change in one transaction, idempotently (a redelivered batch leaves the same rows);
 * returns how many incidents and notifications were new.
 */
export async function saveAlertChange(
  sql: Sql,
  change: AlertChange,
): Promise<{ incidents: number; notifications: number }> {
  const sites = new Set(change.states.map((state) => state.siteId));
  const stateless = change.transitions.find((t) => !sites.has(t.incident.siteId));
  if (stateless !== undefined) {
    throw new Error(
      `Cannot save an alert change without the state of site "${stateless.incident.siteId}": its incident "${stateless.incident.id}" ${stateless.type} in the change`,
    );
  }
  if (change.states.length === 0 && change.notifications.length === 0) {
    return { incidents: 0, notifications: 0 };
  }
  return await sql.begin(async (tx) => {
    await upsertStates(tx, change.states);
    const incidents = await writeIncidents(tx, change.transitions);
    const notifications = await insertNotifications(tx, change.notifications);
    return { incidents, notifications };
  });
}

/**
 * The last state of each site (one row cannot be upserted twice in a statement), in the order of
 * their site ids, so that two writers (an alerter that has just lost its lock, and the next) lock
 * rows in the same order. JSON goes as text[], cast in SQL: postgres.js would encode each element
 * of a jsonb[] as JSON once more.
 */
async function upsertStates(sql: postgres.TransactionSql, states: readonly AlertState[]) {
  if (states.length === 0) return;
  const latest = [...new Map(states.map((state) => [state.siteId, state])).values()];
  await sql`
    INSERT INTO alert_states AS a (site_id, state)
    SELECT site_id, state::jsonb
    FROM unnest(
      ${latest.map((s) => s.siteId)}::text[],
      ${latest.map((s) => JSON.stringify(s))}::text[]
    ) AS t(site_id, state)
    ORDER BY site_id
    ON CONFLICT (site_id) DO UPDATE SET state = excluded.state, updated_at = now()
      WHERE a.state IS DISTINCT FROM excluded.state`;
}

type IncidentRow = { incident: Incident; resolved: { at: string; byCheckId: string } | null };

/** The columns {@link writeIncidents} writes, inlined as constant text (postgres.js's README). */
const INCIDENT_COLUMNS = `incident_id, site_id, kind, severity, regions, opened_at,
  opened_by_check_id, cause_error_kind, cause_status_code, cause_response_time_ms, cause_message,
  resolved_at, resolved_by_check_id`;

/**
 * Inserts each incident once, resolved already when the change also resolves it, and resolves
 * stored ones. Resolutions go first: an incident may resolve and the next of its kind open in one
 * change, and only one of each kind may be open.
 */
async function writeIncidents(
  sql: postgres.TransactionSql,
  transitions: readonly Transition[],
): Promise<number> {
  const byId = new Map<string, IncidentRow>();
  for (const t of transitions) {
    byId.set(t.incident.id, {
      incident: byId.get(t.incident.id)?.incident ?? t.incident,
      resolved: t.type === "resolved" ? { at: t.resolvedAt, byCheckId: t.resolvedByCheckId } : null,
    });
  }
  if (byId.size === 0) return 0;
  const rows = [...byId.values()].toSorted((a, b) => Number(!a.resolved) - Number(!b.resolved));
  const columns = sql.unsafe(INCIDENT_COLUMNS);
  const result = await sql`
    INSERT INTO incidents AS i (${columns})
    SELECT incident_id, site_id, kind, severity,
           ARRAY(SELECT jsonb_array_elements_text(regions::jsonb)), opened_at, opened_by_check_id,
           cause_error_kind, cause_status_code, cause_response_time_ms, cause_message,
           resolved_at, resolved_by_check_id
    FROM unnest(
      ${rows.map((r) => r.incident.id)}::text[],
      ${rows.map((r) => r.incident.siteId)}::text[],
      ${rows.map((r) => r.incident.kind)}::text[],
      ${rows.map((r) => SEVERITIES[r.incident.kind])}::text[],
      ${rows.map((r) => JSON.stringify(r.incident.regions))}::text[],
      ${rows.map((r) => r.incident.openedAt)}::timestamptz[],
      ${rows.map((r) => r.incident.openedByCheckId)}::uuid[],
      ${rows.map((r) => r.incident.cause.errorKind)}::text[],
      ${rows.map((r) => r.incident.cause.statusCode)}::int4[],
      ${rows.map((r) => r.incident.cause.responseTimeMs)}::float8[],
      ${rows.map((r) => r.incident.cause.message)}::text[],
      ${rows.map((r) => r.resolved?.at ?? null)}::timestamptz[],
      ${rows.map((r) => r.resolved?.byCheckId ?? null)}::uuid[]
    ) WITH ORDINALITY AS t(${columns}, position)
    ORDER BY position
    ON CONFLICT (incident_id) DO UPDATE
      SET resolved_at = excluded.resolved_at, resolved_by_check_id = excluded.resolved_by_check_id
      WHERE i.resolved_at IS NULL AND excluded.resolved_at IS NOT NULL`;
  return result.count;
}

/**
 * An incident's opening is inserted before its resolution, so it has the smaller id, and
 * {@link nextNotification} sends them in that order.
 */
async function insertNotifications(
  sql: postgres.TransactionSql,
  notifications: AlertChange["notifications"],
): Promise<number> {
  if (notifications.length === 0) return 0;
  const resolution = (n: typeof notifications[number]) =>
    Number(n.notification.transition === "resolved");
  const ordered = notifications.toSorted((a, b) => resolution(a) - resolution(b));
  const result = await sql`
    INSERT INTO notifications (idempotency_key, channel, incident_id, transition, body)
    SELECT idempotency_key, channel, incident_id, transition, body::jsonb
    FROM unnest(
      ${ordered.map((n) => n.notification.idempotencyKey)}::text[],
      ${ordered.map((n) => n.channel)}::text[],
      ${ordered.map((n) => n.notification.incidentId)}::text[],
      ${ordered.map((n) => n.notification.transition)}::text[],
      ${ordered.map((n) => JSON.stringify(n.notification))}::text[]
    ) WITH ORDINALITY AS t(idempotency_key, channel, incident_id, transition, body, position)
    ORDER BY position
    ON CONFLICT (idempotency_key, channel) DO NOTHING`;
  return result.count;
}

/**
 * The channel's oldest notification due, unless an earlier one of its incident is unsent (a
 * resolution is never sent before its opening); the body as written. Only the alerter holding
 * {@link lockAlerter} reads it, so nothing is claimed.
 */
export async function nextNotification(
  sql: Sql,
  channel: string,
  now: Date,
): Promise<OutboxEntry | undefined> {
  const [row] = await sql<OutboxEntry[]>`
    SELECT n.notification_id::text AS id, n.idempotency_key AS key, n.body, n.attempts
    FROM notifications AS n
    WHERE n.channel = ${channel} AND n.sent_at IS NULL AND n.next_attempt_at <= ${now}
      AND NOT EXISTS (
        SELECT FROM notifications AS e
        WHERE e.incident_id = n.incident_id AND e.channel = n.channel AND e.sent_at IS NULL
          AND e.notification_id < n.notification_id
      )
    ORDER BY n.notification_id
    LIMIT 1`;
  return row;
}

/** Records that a channel accepted a notification; one marked sent already keeps its first time. */
export async function markNotificationSent(sql: Sql, id: string, sentAt: Date): Promise<void> {
  await sql`
    UPDATE notifications SET sent_at = ${sentAt}
    WHERE notification_id = ${id}::bigint AND sent_at IS NULL`;
}

/** Records a failed attempt (its error redacted by the caller); one marked sent is left alone. */
export async function markNotificationFailed(
  sql: Sql,
  id: string,
  failure: { readonly error: string; readonly nextAttemptAt: Date },
): Promise<void> {
  const error = printable(failure.error).slice(0, 2_000);
  await sql`
    UPDATE notifications
    SET attempts = attempts + 1, last_error = ${error}, next_attempt_at = ${failure.nextAttemptAt}
    WHERE notification_id = ${id}::bigint AND sent_at IS NULL`;
}

/** The lock held by the one alerter at work. */
export interface AlerterLock {
  /** Whether it is still held; `unknown` when the database could not be asked. */
  state(): Promise<"held" | "lost" | "unknown">;
  release(): Promise<void>;
}

/**
 * Takes the alerter's advisory lock, waiting while another of its consumer group holds it (each
 * keeps the states in memory: two would overwrite each other's); `undefined` if the signal ends it.
 */
export async function lockAlerter(
  sql: Sql,
  groupId: string,
  options: { readonly signal: AbortSignal; readonly waiting?: () => void },
): Promise<AlerterLock | undefined> {
  const key = `monitor alert ${groupId}`;
  for (let attempt = 1; !options.signal.aborted; attempt++) {
    const lock = await tryLock(sql, key).catch(() => undefined);
    if (lock !== undefined) return lock;
    if (attempt === 1) options.waiting?.();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return undefined;
}

/**
 * The lock on a session of its own, or `undefined` while another holds it. postgres.js 3.4.9 throws
 * uncaught, or hangs, on a query to a reserved connection whose session has ended
 * (porsager/postgres#1208, #1199): the pool is asked whether the lock is held, and the connection
 * is spoken to again only to unlock it, never released once its session has ended.
 */
async function tryLock(sql: Sql, key: string): Promise<AlerterLock | undefined> {
  const connection = await sql.reserve();
  // A failed query is one more wait: lockAlerter() asks again.
  const [row] = await connection`
    SELECT pg_try_advisory_lock(hashtext(${key})) AS locked, pg_backend_pid() AS pid`
    .catch(() => []);
  if (row?.locked !== true) {
    connection.release();
    return undefined;
  }
  const pid: number = row.pid;
  // A lock on one bigint shows in pg_locks as its high half (classid) and low half (objid).
  const state: AlerterLock["state"] = () =>
    sql`
      SELECT FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND pid = ${pid}
        AND (classid::bigint << 32 | objid::bigint) = hashtext(${key})`
      .then((rows) => rows.length === 1 ? "held" : "lost", () => "unknown");
  return {
    state,
    async release() {
      // Lost: the pool has it back (above). Unknown: whether its session lives cannot be told,
      // so it is left to the pool's end, which closes it (and the session's lock with it).
      if (await state() !== "held") return;
      await connection`SELECT pg_advisory_unlock(hashtext(${key}))`.catch(() => {});
      connection.release();
    },
  };
}

/** An incident open now, for a screen. */
type OpenIncidentRow = Pick<Incident, "kind" | "regions"> & { siteName: string; openedAt: Date };

/** The incidents open now, oldest first; the site's id where it has no name. */
export async function openIncidents(sql: Sql, limit: number): Promise<OpenIncidentRow[]> {
  return await sql<OpenIncidentRow[]>`
    SELECT coalesce(site_name, site) AS "siteName", kind, regions, opened_at AS "openedAt"
    FROM open_incidents ORDER BY opened_at, incident_id LIMIT ${limit}`;
}
