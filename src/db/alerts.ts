/**
 * Storing alerts (`sql/0001_schema.sql`): each site's alert state, its incidents, and the outbox
 * of notifications. A change of the state machine is written in one transaction, and every row has
 * a key that the same transition always gives: a crash anywhere neither loses a notification nor
 * adds a second one. The one alerter at work ({@link lockAlerter}) sends what is due.
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

type ChannelNotification = AlertChange["notifications"][number];

/**
 * Writes a change in one transaction: the states, the incidents opened and resolved, and the
 * notifications. Idempotent: the same change saved again (a redelivered batch) leaves the same rows.
 *
 * @returns How many incidents and notifications were new.
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
 * In the order of their site ids, so that two writers (an alerter that has just lost its lock, and
 * the next) lock rows in the same order.
 */
async function upsertStates(sql: postgres.TransactionSql, states: readonly AlertState[]) {
  if (states.length === 0) return;
  // The last state of a site wins: one row cannot be upserted twice in a statement. JSON goes as
  // text[], cast in SQL: postgres.js would encode each element of a jsonb[] as JSON once more.
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

interface IncidentRow {
  readonly incident: Incident;
  readonly resolved: { readonly at: string; readonly byCheckId: string } | null;
}

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
  for (const transition of transitions) {
    const resolved = transition.type === "resolved"
      ? { at: transition.resolvedAt, byCheckId: transition.resolvedByCheckId }
      : null;
    const before = byId.get(transition.incident.id);
    byId.set(transition.incident.id, {
      incident: before?.incident ?? transition.incident,
      resolved: resolved ?? before?.resolved ?? null,
    });
  }
  if (byId.size === 0) return 0;
  const rows = [...byId.values()].toSorted((a, b) => Number(!a.resolved) - Number(!b.resolved));
  const column = <T>(pick: (row: IncidentRow) => T) => rows.map(pick);
  const result = await sql`
    INSERT INTO incidents AS i (incident_id, site_id, kind, severity, regions, opened_at,
      opened_by_check_id, cause_error_kind, cause_status_code, cause_response_time_ms,
      cause_message, resolved_at, resolved_by_check_id)
    SELECT incident_id, site_id, kind, severity,
           ARRAY(SELECT jsonb_array_elements_text(regions::jsonb)), opened_at, opened_by_check_id,
           cause_error_kind, cause_status_code, cause_response_time_ms, cause_message,
           resolved_at, resolved_by_check_id
    FROM unnest(
      ${column((r) => r.incident.id)}::text[],
      ${column((r) => r.incident.siteId)}::text[],
      ${column((r) => r.incident.kind)}::text[],
      ${column((r) => SEVERITIES[r.incident.kind])}::text[],
      ${column((r) => JSON.stringify(r.incident.regions))}::text[],
      ${column((r) => r.incident.openedAt)}::timestamptz[],
      ${column((r) => r.incident.openedByCheckId)}::uuid[],
      ${column((r) => r.incident.cause.errorKind)}::text[],
      ${column((r) => r.incident.cause.statusCode)}::int4[],
      ${column((r) => r.incident.cause.responseTimeMs)}::float8[],
      ${column((r) => r.incident.cause.message)}::text[],
      ${column((r) => r.resolved?.at ?? null)}::timestamptz[],
      ${column((r) => r.resolved?.byCheckId ?? null)}::uuid[]
    ) WITH ORDINALITY AS t(incident_id, site_id, kind, severity, regions, opened_at,
      opened_by_check_id, cause_error_kind, cause_status_code, cause_response_time_ms,
      cause_message, resolved_at, resolved_by_check_id, position)
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
  notifications: readonly ChannelNotification[],
): Promise<number> {
  if (notifications.length === 0) return 0;
  const ordered = notifications.toSorted((a, b) =>
    Number(a.notification.transition === "resolved") -
    Number(b.notification.transition === "resolved")
  );
  const column = <T>(pick: (n: ChannelNotification) => T) => ordered.map(pick);
  const result = await sql`
    INSERT INTO notifications (idempotency_key, channel, incident_id, transition, body)
    SELECT idempotency_key, channel, incident_id, transition, body::jsonb
    FROM unnest(
      ${column((n) => n.notification.idempotencyKey)}::text[],
      ${column((n) => n.channel)}::text[],
      ${column((n) => n.notification.incidentId)}::text[],
      ${column((n) => n.notification.transition)}::text[],
      ${column((n) => JSON.stringify(n.notification))}::text[]
    ) WITH ORDINALITY AS t(idempotency_key, channel, incident_id, transition, body, position)
    ORDER BY position
    ON CONFLICT (idempotency_key, channel) DO NOTHING`;
  return result.count;
}

/**
 * The channel's oldest notification due for sending, unless an earlier one of its incident is
 * unsent (a resolution is never sent before its opening). Only the alerter holding
 * {@link lockAlerter} reads it, so nothing is claimed. The body is as written, to be read with
 * `notificationSchema`.
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
  return row === undefined ? undefined : { ...row };
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

/** Whether the lock is still held; `unknown` when the database could not be asked. */
type LockState = "held" | "lost" | "unknown";

/** The lock held by the one alerter at work. */
export interface AlerterLock {
  state(): Promise<LockState>;
  release(): Promise<void>;
}

/**
 * Takes the alerter's lock (a PostgreSQL advisory lock), waiting while another alerter of the same
 * consumer group holds it: each keeps the states in memory, so two at once would overwrite each
 * other's. `undefined` when the signal ended the wait.
 */
export async function lockAlerter(
  sql: Sql,
  groupId: string,
  options: { readonly signal: AbortSignal; readonly waiting?: () => void },
): Promise<AlerterLock | undefined> {
  const key = `monitor alert ${groupId}`;
  let told = false;
  while (!options.signal.aborted) {
    const lock = await tryLock(sql, key).catch(() => undefined);
    if (lock !== undefined) return lock;
    if (!told) options.waiting?.();
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return undefined;
}

/**
 * The lock on a session of its own, or `undefined` while another session holds it. postgres.js
 * 3.4.9 throws uncaught, or hangs, on a query to a reserved connection whose session has ended
 * (porsager/postgres#1208, #1199): whether the lock is held is asked through the pool, and the
 * connection is spoken to again only to unlock while it holds the lock, and never released once
 * its session has ended (the pool would hand it out again as open).
 */
async function tryLock(sql: Sql, key: string): Promise<AlerterLock | undefined> {
  const connection = await sql.reserve();
  try {
    const [row] = await connection`
      SELECT pg_try_advisory_lock(hashtext(${key})) AS locked, pg_backend_pid() AS pid`;
    if (row?.locked !== true) {
      connection.release();
      return undefined;
    }
    const pid: number = row.pid;
    // A lock on one bigint shows in pg_locks as its high half (classid) and low half (objid).
    const state = (): Promise<LockState> =>
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
  } catch (error) {
    connection.release();
    throw error;
  }
}

/** An incident open now, for a screen. */
interface OpenIncidentRow {
  readonly siteName: string;
  readonly kind: Incident["kind"];
  readonly regions: readonly string[];
  readonly openedAt: Date;
}

/** The incidents open now, oldest first; the site's id where it has no name. */
export async function openIncidents(sql: Sql, limit: number): Promise<OpenIncidentRow[]> {
  const rows = await sql<OpenIncidentRow[]>`
    SELECT coalesce(site_name, site) AS "siteName", kind, regions, opened_at AS "openedAt"
    FROM open_incidents ORDER BY opened_at, incident_id LIMIT ${limit}`;
  return [...rows];
}
