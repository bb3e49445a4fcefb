/**
 * Storing alerts (`sql/0001_schema.sql`): each site's alert state, its incidents, and the outbox
 * of notifications. A change of the state machine is written in one transaction, states,
 * incidents and notifications together, so that the consumer can commit its Kafka offsets after
 * it and a crash anywhere neither loses a notification nor adds a second one: every row has a key
 * that the same transition always gives. A sender loop then claims the due notifications, sends
 * them and marks each sent, or failed with the time of its next attempt.
 *
 * @module
 */
import type postgres from "postgres";
import { type Notification, notificationSchema, SEVERITIES } from "../alert/notification.ts";
import {
  type AlertState,
  alertStateSchema,
  type Incident,
  type Transition,
} from "../alert/state.ts";
import { printable } from "../text.ts";
import type { Sql } from "./client.ts";

/**
 * A pool, or a transaction begun on one (`sql.begin((tx) => …)`).
 *
 * @example
 * ```ts ignore
 * import { saveAlertChange } from "./alerts.ts";
 * await saveAlertChange(sql, change); // a transaction of its own
 * await sql.begin((tx) => saveAlertChange(tx, change)); // the caller's
 * ```
 */
export type SqlOrTransaction = Sql | postgres.TransactionSql;

/**
 * Rows that this version of `monitor` cannot read: written by another version, or by hand. Every
 * such row of the query is named, with what is wrong with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnreadableRowsError } from "./alerts.ts";
 * const error = new UnreadableRowsError("alert_states", [{ key: 'site_id "shop"', problem: "version: Invalid input: expected 1" }], "fix the row");
 * assert.equal(error.message, 'Cannot read 1 row of alert_states: site_id "shop": version: Invalid input: expected 1: fix the row');
 * ```
 */
export class UnreadableRowsError extends Error {
  override name = "UnreadableRowsError";
  /** The table read. */
  readonly table: string;
  /** Each unreadable row: its key (`site_id "shop"`) and what is wrong. */
  readonly rows: readonly { readonly key: string; readonly problem: string }[];

  /**
   * @param table The table read.
   * @param rows At least one row.
   * @param hint What to do, at the end of the message.
   */
  constructor(
    table: string,
    rows: readonly { readonly key: string; readonly problem: string }[],
    hint: string,
  ) {
    const count = rows.length === 1 ? "1 row" : `${rows.length} rows`;
    const each = rows.map((row) => `${row.key}: ${row.problem}`).join("; ");
    super(`Cannot read ${count} of ${table}: ${each}: ${hint}`);
    this.table = table;
    this.rows = rows;
  }
}

/** The first issues of a failed zod parse, as `path: message`. */
function problemOf(error: { issues: readonly { path: PropertyKey[]; message: string }[] }) {
  return error.issues.slice(0, 3)
    .map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`)
    .join(", ");
}

/**
 * The stored alert state of every site, or of the sites named, to follow them on after a restart.
 *
 * @param sql The database.
 * @param siteIds The sites whose state to read; every site's when omitted. A site with no stored
 *   state is absent from the map (start it with `initialAlertState()`).
 * @returns Site id → its state.
 * @throws {UnreadableRowsError} When a stored state is not a valid {@link AlertState} (written by
 *   another version of `monitor`, or edited), naming every such site: starting such a site afresh
 *   would forget its open incidents, so nothing is skipped silently.
 *
 * @example
 * ```ts ignore
 * import { loadAlertStates } from "./alerts.ts";
 * const states = await loadAlertStates(sql, ["shop", "blog"]);
 * const shop = states.get("shop") ?? initialAlertState("shop", new Date().toISOString());
 * ```
 */
export async function loadAlertStates(
  sql: Sql,
  siteIds?: readonly string[],
): Promise<Map<string, AlertState>> {
  const rows = await sql<{ site_id: string; state: unknown }[]>`
    SELECT site_id, state FROM alert_states
    ${siteIds === undefined ? sql`` : sql`WHERE site_id = ANY(${[...siteIds]}::text[])`}
    ORDER BY site_id`;
  const states = new Map<string, AlertState>();
  const unreadable: { key: string; problem: string }[] = [];
  for (const row of rows) {
    const parsed = alertStateSchema.safeParse(row.state);
    if (parsed.success) states.set(row.site_id, parsed.data);
    else unreadable.push({ key: `site_id "${row.site_id}"`, problem: problemOf(parsed.error) });
  }
  if (unreadable.length > 0) {
    throw new UnreadableRowsError(
      "alert_states",
      unreadable,
      "run the version of monitor that wrote them, or repair them",
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
 * again (a redelivered batch, or two writers at once) leaves the same rows. Writers of the same
 * site take turns on its `alert_states` row, so they cannot race on its incidents.
 *
 * With a pool, it begins and commits a transaction of its own. With a transaction
 * (`sql.begin((tx) => saveAlertChange(tx, change))`), it writes in that one, which commits it (or
 * not) with the caller's other writes. Errors (a lost connection, a deadlock, a constraint that
 * says the change contradicts what is stored) are thrown; nothing of the change is then kept.
 *
 * @param sql A pool, or a transaction.
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
  sql: SqlOrTransaction,
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
  return "begin" in sql
    ? await sql.begin((tx) => writeChange(tx, change))
    : writeChange(sql, change);
}

async function writeChange(
  sql: postgres.TransactionSql,
  change: AlertChange,
): Promise<SaveOutcome> {
  await upsertStates(sql, change.states);
  const incidents = await writeIncidents(sql, change.transitions);
  const notifications = await insertNotifications(sql, change.notifications);
  return { incidents, notifications };
}

/**
 * Upserts the states in the order of their site ids, so that two writers lock rows in the same
 * order; a row equal to the one stored is locked but not rewritten.
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
 * resolution, so it has the smaller id: {@link claimDueNotifications} sends them in that order.
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
 * How long a claim keeps a notification from other senders, unless said otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LEASE_MS } from "./alerts.ts";
 * assert.equal(DEFAULT_LEASE_MS, 60_000);
 * ```
 */
export const DEFAULT_LEASE_MS = 60_000;

/**
 * What to claim.
 *
 * @example
 * ```ts
 * import type { ClaimOptions } from "./alerts.ts";
 * const options: ClaimOptions = { channel: "oncall", limit: 20, now: new Date(), leaseMs: 120_000 };
 * ```
 */
export interface ClaimOptions {
  /** Only this channel's notifications; every channel's when omitted. */
  readonly channel?: string;
  /** At most this many (at least 1). */
  readonly limit: number;
  /**
   * The sender's clock: notifications whose next attempt is at or before it are due. A new
   * notification's first attempt is when its change was saved, by the database's clock.
   */
  readonly now: Date;
  /**
   * How long the claimed notifications are kept from other claims (default
   * {@link DEFAULT_LEASE_MS}): longer than a delivery may take. A sender that dies while sending
   * lets its notifications be claimed again when the lease ends.
   */
  readonly leaseMs?: number;
}

/**
 * A notification of the outbox, claimed for sending.
 *
 * @example
 * ```ts ignore
 * const [claimed] = await claimDueNotifications(sql, { limit: 1, now: new Date() });
 * if (claimed) await channels.get(claimed.channel)!.send(claimed.notification);
 * ```
 */
export interface ClaimedNotification {
  /** The outbox row's id (a bigint, as text), for {@link markNotificationSent} and failed. */
  readonly id: string;
  /** The channel's name. */
  readonly channel: string;
  readonly notification: Notification;
  /** Failed deliveries so far. */
  readonly attempts: number;
  /** The last failure's message; null before one. */
  readonly lastError: string | null;
  /** When the change that made it was saved. */
  readonly createdAt: Date;
}

/**
 * Claims the notifications due for sending, oldest first: unsent, with their next attempt at or
 * before `now`. Each claimed one is leased (its next attempt moved to the end of the lease), so
 * that concurrent senders never claim it twice while it is being sent. A notification waits while
 * an earlier one of the same incident and channel is unsent: a resolution is never sent before its
 * opening. Channels do not wait for each other: a failing channel's notifications are due only at
 * their next attempt, and `channel` claims one channel's alone.
 *
 * @param sql The database (a pool: the lease must be committed before sending).
 * @param options The channel, how many, the clock and the lease.
 * @returns The claimed notifications, oldest first.
 * @throws {RangeError} When `limit` is not an integer of at least 1 or `leaseMs` is negative.
 * @throws {UnreadableRowsError} When a claimed body is not a valid {@link Notification}.
 *
 * @example
 * ```ts ignore
 * import { claimDueNotifications, markNotificationSent } from "./alerts.ts";
 * for (const claimed of await claimDueNotifications(sql, { channel: "oncall", limit: 10, now: new Date() })) {
 *   await channel.send(claimed.notification);
 *   await markNotificationSent(sql, claimed.id, new Date());
 * }
 * ```
 */
export async function claimDueNotifications(
  sql: Sql,
  options: ClaimOptions,
): Promise<ClaimedNotification[]> {
  const { channel, limit, now, leaseMs = DEFAULT_LEASE_MS } = options;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(
      `The claim limit must be an integer of at least 1: current value is ${limit}`,
    );
  }
  if (!(leaseMs >= 0)) {
    throw new RangeError(`The lease must be at least 0 ms: current value is ${leaseMs}`);
  }
  const rows = await sql<{
    id: string;
    channel: string;
    body: unknown;
    attempts: number;
    last_error: string | null;
    created_at: Date;
  }[]>`
    WITH due AS (
      SELECT n.notification_id
      FROM notifications AS n
      WHERE n.sent_at IS NULL AND n.next_attempt_at <= ${now}
        ${channel === undefined ? sql`` : sql`AND n.channel = ${channel}`}
        AND NOT EXISTS (
          SELECT FROM notifications AS e
          WHERE e.incident_id = n.incident_id AND e.channel = n.channel AND e.sent_at IS NULL
            AND e.notification_id < n.notification_id
        )
      ORDER BY n.notification_id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ),
    claimed AS (
      UPDATE notifications AS n SET next_attempt_at = ${new Date(now.getTime() + leaseMs)}
      FROM due
      WHERE n.notification_id = due.notification_id
      RETURNING n.notification_id, n.channel, n.body, n.attempts, n.last_error, n.created_at
    )
    SELECT notification_id::text AS id, channel, body, attempts, last_error, created_at
    FROM claimed
    ORDER BY notification_id`;
  const unreadable: { key: string; problem: string }[] = [];
  const claimed: ClaimedNotification[] = [];
  for (const row of rows) {
    const parsed = notificationSchema.safeParse(row.body);
    if (!parsed.success) {
      unreadable.push({ key: `notification_id ${row.id}`, problem: problemOf(parsed.error) });
      continue;
    }
    claimed.push({
      id: row.id,
      channel: row.channel,
      notification: parsed.data,
      attempts: row.attempts,
      lastError: row.last_error,
      createdAt: row.created_at,
    });
  }
  if (unreadable.length > 0) {
    throw new UnreadableRowsError(
      "notifications",
      unreadable,
      "run the version of monitor that wrote them, or repair them",
    );
  }
  return claimed;
}

/**
 * Records that a channel accepted a notification. A notification already marked sent (by another
 * sender whose lease ran out) keeps its first time.
 *
 * @param sql The database.
 * @param id The claimed notification's id.
 * @param sentAt When the channel accepted it.
 *
 * @example
 * ```ts ignore
 * import { markNotificationSent } from "./alerts.ts";
 * await markNotificationSent(sql, claimed.id, new Date());
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
 * sent meanwhile (by another sender) is left as it is.
 *
 * @param sql The database.
 * @param id The claimed notification's id.
 * @param failure The redacted error and the next attempt's time.
 *
 * @example
 * ```ts ignore
 * import { markNotificationFailed } from "./alerts.ts";
 * const delayMs = Math.min(500 * 2 ** claimed.attempts, 300_000);
 * await markNotificationFailed(sql, claimed.id, {
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
 * The unsent notifications of one channel.
 *
 * @example
 * ```ts ignore
 * for (const { channel, unsent } of await notificationBacklog(sql)) backlogGauge.set({ channel }, unsent);
 * ```
 */
export interface ChannelBacklog {
  /** The channel's name. */
  readonly channel: string;
  /** Notifications not sent yet. */
  readonly unsent: number;
  /** Those of them that failed at least once. */
  readonly failing: number;
  /** When the oldest of them was saved. */
  readonly oldestCreatedAt: Date;
}

/**
 * The outbox's backlog per channel, for metrics and logs. Channels with nothing unsent are absent.
 *
 * @param sql The database.
 * @returns One entry per channel with unsent notifications, by channel name.
 *
 * @example
 * ```ts ignore
 * import { notificationBacklog } from "./alerts.ts";
 * for (const { channel, unsent, oldestCreatedAt } of await notificationBacklog(sql)) {
 *   log.warn("notifications waiting", { channel, unsent, since: oldestCreatedAt.toISOString() });
 * }
 * ```
 */
export async function notificationBacklog(sql: Sql): Promise<ChannelBacklog[]> {
  const rows = await sql<
    { channel: string; unsent: number; failing: number; oldest_created_at: Date }[]
  >`
    SELECT channel, count(*)::int AS unsent, count(*) FILTER (WHERE attempts > 0)::int AS failing,
           min(created_at) AS oldest_created_at
    FROM notifications
    WHERE sent_at IS NULL
    GROUP BY channel
    ORDER BY channel`;
  return rows.map((row) => ({
    channel: row.channel,
    unsent: row.unsent,
    failing: row.failing,
    oldestCreatedAt: row.oldest_created_at,
  }));
}

/** The lock held by the one alerter at work. */
export interface AlerterLock {
  /** Whether it is still held: false once its database session was lost (the server let go). */
  held(): Promise<boolean>;
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

/** The lock on a session of its own, or `undefined` while another session holds it. */
async function tryLock(sql: Sql, key: string): Promise<AlerterLock | undefined> {
  const connection = await sql.reserve();
  try {
    const [row] = await connection`
      SELECT pg_try_advisory_lock(hashtext(${key})) AS locked, pg_backend_pid() AS pid`;
    if (row?.locked !== true) {
      connection.release();
      return undefined;
    }
    const pid = row.pid;
    return {
      async held() {
        const [now] = await connection`SELECT pg_backend_pid() AS pid`.catch(() => []);
        return now?.pid === pid;
      },
      async release() {
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
