/**
 * Storing alerts (`sql/0001_schema.sql`): each site's alert state, its incidents, and the outbox
 * of notifications. A change of the state machine is written in one transaction, states,
 * incidents and notifications together, so that the consumer can commit its Kafka offsets after
 * it and a crash anywhere neither loses a notification nor adds a second one: every row has a key
 * that the same transition always gives. The one alerter at work ({@link lockAlerter}) then reads
 * what is due, sends it and marks it sent, or failed with the time of its next attempt.
 *
 * @module
 */
import type postgres from "postgres";
import type { OutboxEntry } from "../alert/deliver.ts";
import { type Notification, SEVERITIES } from "../alert/notification.ts";
import {
  type AlertState,
  alertStateSchema,
  type Incident,
  type Transition,
} from "../alert/state.ts";
import { ServiceError } from "../errors.ts";
import { printable } from "../text.ts";
import type { Sql } from "./client.ts";

/**
 * The stored alert state of every site, to follow them on after a restart.
 *
 * @param sql The database.
 * @returns Site id → its state. A site with no stored state is absent from the map (start it with
 *   `initialAlertState()`).
 * @throws {ServiceError} When a stored state is not a valid {@link AlertState} (written by another
 *   version of `monitor`, or edited), naming every such site: starting such a site afresh would
 *   forget its open incidents, so nothing is skipped silently.
 *
 * @example
 * ```ts ignore
 * import { loadAlertStates } from "./alerts.ts";
 * const states = await loadAlertStates(sql);
 * const shop = states.get("shop") ?? initialAlertState("shop", new Date().toISOString());
 * ```
 */
export async function loadAlertStates(sql: Sql): Promise<Map<string, AlertState>> {
  const rows = await sql<{ site_id: string; state: unknown }[]>`
    SELECT site_id, state FROM alert_states ORDER BY site_id`;
  const states = new Map<string, AlertState>();
  const unreadable: string[] = [];
  for (const row of rows) {
    const parsed = alertStateSchema.safeParse(row.state);
    if (parsed.success) states.set(row.site_id, parsed.data);
    else {
      const [problem] = parsed.error.issues.map((i) =>
        [i.path.join("."), i.message].filter(Boolean).join(": ")
      );
      unreadable.push(`site "${row.site_id}": ${problem}`);
    }
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
 * A notification for one channel.
 *
 * @example
 * ```ts ignore
 * const entry: ChannelNotification = { channel: "oncall", notification: notificationOf(transition, site) };
 * ```
 */
export interface ChannelNotification {
  /** The channel's name. */
  readonly channel: string;
  readonly notification: Notification;
}

/**
 * What the state machine changed: new states, and what to record and tell of it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialAlertState } from "../alert/incidents.ts";
 * import type { AlertChange } from "./alerts.ts";
 * const change: AlertChange = { states: [initialAlertState("shop", "2026-01-01T00:00:00.000Z")], transitions: [], notifications: [] };
 * assert.equal(change.states[0]?.siteId, "shop");
 * ```
 */
export interface AlertChange {
  /** The new state of each site that changed; every site of a transition must be here. */
  readonly states: readonly AlertState[];
  /** Incidents opened and resolved, in the order they happened. */
  readonly transitions: readonly Transition[];
  /** The notifications of those transitions, one per transition and channel. */
  readonly notifications: readonly ChannelNotification[];
}

/**
 * What {@link saveAlertChange} added: nothing, for a change saved before.
 *
 * @example
 * ```ts ignore
 * const { notifications } = await saveAlertChange(sql, change);
 * if (notifications > 0) delivery.wake();
 * ```
 */
export interface SaveOutcome {
  /** Incidents inserted, or resolved, by this call. */
  readonly incidents: number;
  /** Notifications added to the outbox by this call. */
  readonly notifications: number;
}

/**
 * Writes a change in one transaction: upserts the states, inserts the incidents opened, resolves
 * those resolved, and adds the notifications to the outbox. Idempotent: the same change saved
 * again (a redelivered batch) leaves the same rows. Errors (a lost connection, a constraint that
 * says the change contradicts what is stored) are thrown; nothing of the change is then kept.
 *
 * @param sql The database.
 * @param change The states, transitions and notifications of one or more events.
 * @returns How many incidents and notifications were new.
 * @throws {Error} When a transition's site has no state in the change (a bug of the caller).
 *
 * @example
 * ```ts ignore
 * import { saveAlertChange } from "./alerts.ts";
 * const step = applyAlertEvent(rule, state, { type: "result", result });
 * const notifications = step.transitions.flatMap((transition) =>
 *   channels.map((channel) => ({ channel, notification: notificationOf(transition, site) }))
 * );
 * await saveAlertChange(sql, { states: [step.state], transitions: step.transitions, notifications });
 * ```
 */
export async function saveAlertChange(
  sql: Sql,
  change: AlertChange,
): Promise<SaveOutcome> {
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
 * Upserts the states in the order of their site ids, so that two writers (an alerter that has
 * just lost its lock, and the next) lock rows in the same order; a row equal to the one stored is
 * locked but not rewritten.
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

/** An incident and, when the change resolves it, how. */
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
  const rows = new Map<string, IncidentRow>();
  for (const transition of transitions) {
    const resolved = transition.type === "resolved"
      ? { at: transition.resolvedAt, byCheckId: transition.resolvedByCheckId }
      : null;
    const before = rows.get(transition.incident.id);
    rows.set(transition.incident.id, {
      incident: before?.incident ?? transition.incident,
      resolved: resolved ?? before?.resolved ?? null,
    });
  }
  const resolved = [...rows.values()].filter((row) => row.resolved !== null);
  const opened = [...rows.values()].filter((row) => row.resolved === null);
  let written = 0;
  if (resolved.length > 0) {
    written += (await sql`
      INSERT INTO incidents AS i ${incidentColumns(sql)} ${incidentValues(sql, resolved)}
      ON CONFLICT (incident_id) DO UPDATE
        SET resolved_at = excluded.resolved_at, resolved_by_check_id = excluded.resolved_by_check_id
        WHERE i.resolved_at IS NULL`).count;
  }
  if (opened.length > 0) {
    written += (await sql`
      INSERT INTO incidents ${incidentColumns(sql)} ${incidentValues(sql, opened)}
      ON CONFLICT (incident_id) DO NOTHING`).count;
  }
  return written;
}

function incidentColumns(sql: postgres.TransactionSql) {
  return sql`(incident_id, site_id, kind, severity, regions, opened_at, opened_by_check_id,
              cause_error_kind, cause_status_code, cause_response_time_ms, cause_message,
              resolved_at, resolved_by_check_id)`;
}

function incidentValues(sql: postgres.TransactionSql, rows: readonly IncidentRow[]) {
  const column = <T>(pick: (incident: Incident) => T) => rows.map((row) => pick(row.incident));
  return sql`
    SELECT incident_id, site_id, kind, severity,
           ARRAY(SELECT jsonb_array_elements_text(regions::jsonb)), opened_at, opened_by_check_id,
           cause_error_kind, cause_status_code, cause_response_time_ms, cause_message,
           resolved_at, resolved_by_check_id
    FROM unnest(
      ${column((i) => i.id)}::text[],
      ${column((i) => i.siteId)}::text[],
      ${column((i) => i.kind)}::text[],
      ${column((i) => SEVERITIES[i.kind])}::text[],
      ${column((i) => JSON.stringify(i.regions))}::text[],
      ${column((i) => i.openedAt)}::timestamptz[],
      ${column((i) => i.openedByCheckId)}::uuid[],
      ${column((i) => i.cause.errorKind)}::text[],
      ${column((i) => i.cause.statusCode)}::int4[],
      ${column((i) => i.cause.responseTimeMs)}::float8[],
      ${column((i) => i.cause.message)}::text[],
      ${rows.map((row) => row.resolved?.at ?? null)}::timestamptz[],
      ${rows.map((row) => row.resolved?.byCheckId ?? null)}::uuid[]
    ) AS t(incident_id, site_id, kind, severity, regions, opened_at, opened_by_check_id,
           cause_error_kind, cause_status_code, cause_response_time_ms, cause_message,
           resolved_at, resolved_by_check_id)`;
}

/**
 * Adds the notifications not in the outbox yet. An incident's opening is inserted before its
 * resolution, so it has the smaller id: {@link nextNotification} sends them in that order.
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
 * The channel's oldest notification due for sending: unsent, with its next attempt at or before
 * `now`, and no earlier notification of the same incident unsent (a resolution is never sent
 * before its opening). Channels do not wait for each other: a failing channel's notifications are
 * due only at their next attempt. One sender reads the outbox, the alerter that holds
 * {@link lockAlerter}: nothing is claimed, and a sender killed mid-send leaves the notification
 * due for the next alerter.
 *
 * @param sql The database.
 * @param channel The channel's name.
 * @param now The sender's clock. A new notification's first attempt is when its change was saved,
 *   by the database's clock.
 * @returns The notification, its body as it was written (to be read with `notificationSchema`),
 *   or `undefined` when none is due.
 *
 * @example
 * ```ts ignore
 * import { markNotificationSent, nextNotification } from "./alerts.ts";
 * const due = await nextNotification(sql, "oncall", new Date());
 * if (due) {
 *   await channel.send(notificationSchema.parse(due.body));
 *   await markNotificationSent(sql, due.id, new Date());
 * }
 * ```
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

/**
 * Records that a channel accepted a notification. A notification marked sent already keeps its
 * first time.
 *
 * @param sql The database.
 * @param id The notification's id.
 * @param sentAt When the channel accepted it.
 *
 * @example
 * ```ts ignore
 * import { markNotificationSent } from "./alerts.ts";
 * await markNotificationSent(sql, due.id, new Date());
 * ```
 */
export async function markNotificationSent(sql: Sql, id: string, sentAt: Date): Promise<void> {
  await sql`
    UPDATE notifications SET sent_at = ${sentAt}
    WHERE notification_id = ${id}::bigint AND sent_at IS NULL`;
}

/**
 * A failed delivery.
 *
 * @example
 * ```ts
 * import type { DeliveryFailure } from "./alerts.ts";
 * const failure: DeliveryFailure = {
 *   error: 'Channel "oncall" (pagerduty) answered HTTP 503',
 *   nextAttemptAt: new Date(Date.now() + 2_000),
 * };
 * ```
 */
export interface DeliveryFailure {
  /** Why, already redacted by the caller (no URL token, key or password); cut at 2 000 characters. */
  readonly error: string;
  /** When to try again: the caller's backoff. */
  readonly nextAttemptAt: Date;
}

/** The longest `last_error` kept, in characters. */
const MAX_ERROR_LENGTH = 2_000;

/**
 * Records a failed delivery: one more attempt, the error, and when to try again. A notification
 * marked sent is left as it is.
 *
 * @param sql The database.
 * @param id The notification's id.
 * @param failure The redacted error and the next attempt's time.
 *
 * @example
 * ```ts ignore
 * import { markNotificationFailed } from "./alerts.ts";
 * const delayMs = Math.min(500 * 2 ** due.attempts, 300_000);
 * await markNotificationFailed(sql, due.id, {
 *   error: error.message, // a ChannelError's message names the channel, never its secrets
 *   nextAttemptAt: new Date(Date.now() + delayMs),
 * });
 * ```
 */
export async function markNotificationFailed(
  sql: Sql,
  id: string,
  failure: DeliveryFailure,
): Promise<void> {
  const error = printable(failure.error).slice(0, MAX_ERROR_LENGTH);
  await sql`
    UPDATE notifications
    SET attempts = attempts + 1, last_error = ${error}, next_attempt_at = ${failure.nextAttemptAt}
    WHERE notification_id = ${id}::bigint AND sent_at IS NULL`;
}

/**
 * Whether the lock is still held: `lost` once its database session was lost (the server let go);
 * `unknown` when the database could not be asked (a timeout, a pool error), to be asked again.
 */
export type LockState = "held" | "lost" | "unknown";

/** The lock held by the one alerter at work. */
export interface AlerterLock {
  /** Asks the database whether the lock is still held. */
  state(): Promise<LockState>;
  /** Lets the next alerter take over. */
  release(): Promise<void>;
}

/**
 * Takes the alerter's lock (a PostgreSQL advisory lock, on a connection of its own), waiting while
 * another alerter of the same consumer group holds it: the alerter keeps the states in memory, so
 * two at work at once would overwrite each other's. One started beside another waits to take over;
 * a database away meanwhile is waited for.
 *
 * @param sql The pool.
 * @param groupId The alerter's consumer group.
 * @param options `signal` ends the wait; `waiting` is told once, while another holds the lock.
 * @returns The lock, or `undefined` when the signal ended the wait.
 *
 * @example
 * ```ts ignore
 * import { lockAlerter } from "./alerts.ts";
 * const lock = await lockAlerter(sql, "website-monitor-alerter", { signal });
 * await lock?.release();
 * ```
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
 * The lock on a session of its own, or `undefined` while another session holds it. Whether it is
 * held is asked through the pool: postgres.js 3.4.9 throws an uncaught error, or hangs, on a query
 * to a reserved connection whose session has ended (porsager/postgres#1208, #1199), so that
 * connection is spoken to again only to unlock, while it holds the lock, and never returned to the
 * pool once its session has ended: the pool took it back, closed, when it closed, and a release
 * would hand it out again as open.
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
export interface OpenIncidentRow {
  readonly siteName: string;
  readonly kind: "down" | "degraded" | "stale";
  readonly regions: readonly string[];
  readonly openedAt: Date;
}

/**
 * The incidents open now, oldest first (at most `limit`).
 *
 * @param sql The pool.
 * @param limit Most incidents returned.
 * @returns From the `open_incidents` view; the site's id where it has no name.
 *
 * @example
 * ```ts ignore
 * import { openIncidents } from "./alerts.ts";
 * for (const incident of await openIncidents(sql, 20)) console.log(incident.siteName, incident.kind);
 * ```
 */
export async function openIncidents(sql: Sql, limit: number): Promise<OpenIncidentRow[]> {
  const rows = await sql<
    { site_name: string; kind: OpenIncidentRow["kind"]; regions: string[]; opened_at: Date }[]
  >`
    SELECT coalesce(site_name, site) AS site_name, kind, regions, opened_at
    FROM open_incidents ORDER BY opened_at, incident_id LIMIT ${limit}`;
  return rows.map((row) => ({
    siteName: row.site_name,
    kind: row.kind,
    regions: row.regions,
    openedAt: row.opened_at,
  }));
}
