import assert from "node:assert/strict";
import type { AlertChange } from "../../src/alert/decide.ts";
import { applyAlertEvent, initialAlertState } from "../../src/alert/incidents.ts";
import { notificationOf } from "../../src/alert/notification.ts";
import type { AlertRule } from "../../src/alert/rules.ts";
import type { AlertState, CheckSeen, Transition } from "../../src/alert/state.ts";
import type { Sql } from "../../src/db/client.ts";
import {
  loadAlertStates,
  lockAlerter,
  markNotificationFailed,
  markNotificationSent,
  nextNotification,
  saveAlertChange,
} from "../../src/db/alerts.ts";
import { ServiceError } from "../../src/errors.ts";
import { testEnv, waitFor, withDatabase } from "../_helpers/services.ts";

/** An hour ago, in whole seconds: the views measure how long incidents last until now. */
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

/** One failure opens, one success resolves. */
const RULE: AlertRule = {
  failureThreshold: 1,
  successThreshold: 1,
  regions: 1,
  responseTimeMs: null,
  staleAfterMs: 180_000,
  channels: [],
};

function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

function check(siteId: string, seconds: number, up: boolean): CheckSeen {
  const common = { checkId: crypto.randomUUID(), siteId, checkedAt: at(seconds), region: "eu" };
  return up ? { ...common, up, statusCode: 200, responseTimeMs: 80, error: null } : {
    ...common,
    up,
    statusCode: 503,
    responseTimeMs: 40,
    error: { kind: "unexpected_status", message: "Status 503 is not in 200-399" },
  };
}

/** The change of one event, with a notification of each transition to each channel. */
function step(
  state: AlertState,
  event: CheckSeen | { tick: number },
  channels: readonly string[],
): AlertChange & { state: AlertState; transitions: readonly Transition[] } {
  const next = applyAlertEvent(
    RULE,
    state,
    "tick" in event ? { type: "tick", at: at(event.tick) } : { type: "result", result: event },
  );
  const site = { name: state.siteId.toUpperCase(), url: `https://${state.siteId}.test/` };
  return {
    state: next.state,
    states: [next.state],
    transitions: next.transitions,
    notifications: next.transitions.flatMap((transition) =>
      channels.map((channel) => ({ channel, notification: notificationOf(transition, site) }))
    ),
  };
}

/** The change that opens a down incident of `siteId` at T0 + 60 s. */
function opening(siteId: string, channels: readonly string[]) {
  return step(initialAlertState(siteId, at(0)), check(siteId, 60, false), channels);
}

async function count(sql: Sql, table: "incidents" | "notifications"): Promise<number> {
  const [row] = await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM ${sql(table)}`;
  return row.n;
}

Deno.test("loadAlertStates() reads back the states saveAlertChange() stored", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const shop = opening("shop", []);
    const blog = step(initialAlertState("blog", at(0)), check("blog", 30, true), []);
    await saveAlertChange(sql, { ...shop, notifications: [] });
    await saveAlertChange(sql, blog);
    assert.deepEqual(
      await loadAlertStates(sql),
      new Map([["blog", blog.state], ["shop", shop.state]]),
    );
    // The stored open incident comes back: the next success resolves it.
    const resolving = step((await loadAlertStates(sql)).get("shop")!, check("shop", 120, true), []);
    assert.equal(resolving.transitions[0]?.type, "resolved");
  });
});

Deno.test("loadAlertStates() names every stored state it cannot read instead of skipping it", async () => {
  await withDatabase(testEnv(), async (sql) => {
    await saveAlertChange(sql, opening("shop", []));
    const future = { ...initialAlertState("blog", at(0)), version: 2 };
    await sql`
      INSERT INTO alert_states (site_id, state)
      VALUES ('blog', ${sql.json(future)}), ('wiki', '{"siteId": "wiki"}')`;
    await assert.rejects(loadAlertStates(sql), (error: Error) => {
      assert.ok(error instanceof ServiceError, "not reported as a bug");
      assert.match(
        error.message,
        /^Cannot read the alert state stored for site "blog": version: [^;]+; site "wiki": version: [^;]+: run the version of monitor that wrote it, or repair it in alert_states$/,
      );
      return true;
    });
  });
});

Deno.test("saveAlertChange() of the same change twice stores one incident and one notification per channel", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const change = opening("shop", ["chat", "oncall"]);
    assert.deepEqual(await saveAlertChange(sql, change), { incidents: 1, notifications: 2 });
    const before = await sql`SELECT * FROM alert_states`;
    assert.deepEqual(await saveAlertChange(sql, change), { incidents: 0, notifications: 0 });
    assert.deepEqual(await sql`SELECT * FROM alert_states`, before, "state rewritten");
    assert.equal(await count(sql, "incidents"), 1);
    const rows = await sql`
      SELECT channel, idempotency_key, incident_id, transition, body, attempts, sent_at
      FROM notifications ORDER BY channel`;
    const [opened] = change.notifications;
    const id = change.transitions[0]!.incident.id;
    assert.deepEqual(rows.map((r) => ({ ...r })), [
      {
        channel: "chat",
        idempotency_key: `${id}/opened`,
        incident_id: id,
        transition: "opened",
        body: opened!.notification,
        attempts: 0,
        sent_at: null,
      },
      {
        channel: "oncall",
        idempotency_key: `${id}/opened`,
        incident_id: id,
        transition: "opened",
        body: opened!.notification,
        attempts: 0,
        sent_at: null,
      },
    ]);
  });
});

Deno.test("saveAlertChange() writes the incident's cause and regions into columns", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const change = opening("shop", []);
    await saveAlertChange(sql, change);
    const incident = change.transitions[0]!.incident;
    const [row] = await sql`SELECT * FROM incidents`;
    assert.deepEqual({ ...row }, {
      incident_id: incident.id,
      site_id: "shop",
      kind: "down",
      severity: "critical",
      regions: ["eu"],
      opened_at: new Date(at(60)),
      opened_by_check_id: incident.openedByCheckId,
      cause_error_kind: "unexpected_status",
      cause_status_code: 503,
      cause_response_time_ms: 40,
      cause_message: "Status 503 is not in 200-399",
      resolved_at: null,
      resolved_by_check_id: null,
    });
  });
});

Deno.test("an incident resolved shows in open_incidents until then, and in incident_history with its duration", async () => {
  await withDatabase(testEnv(), async (sql) => {
    await sql`
      INSERT INTO sites (site_id, name, url, first_checked_at, changed_at)
      VALUES ('shop', 'Shop', 'https://shop.test/', ${at(0)}, ${at(0)})`;
    const opened = opening("shop", ["chat"]);
    await saveAlertChange(sql, opened);
    const id = opened.transitions[0]!.incident.id;
    const open = await sql`SELECT incident_id, site, site_name, open_for FROM open_incidents`;
    assert.deepEqual(open.map((r) => [r.incident_id, r.site, r.site_name]), [[id, "shop", "Shop"]]);
    assert.match(open[0]!.open_for, /^00:5\d:/, "opened 59 minutes ago");

    const resolved = step(opened.state, check("shop", 372, true), ["chat"]);
    assert.deepEqual(await saveAlertChange(sql, resolved), { incidents: 1, notifications: 1 });
    assert.deepEqual(await saveAlertChange(sql, resolved), { incidents: 0, notifications: 0 });
    assert.deepEqual([...await sql`SELECT * FROM open_incidents`], []);
    const history = await sql`
      SELECT incident_id, resolved_at, resolved_by_check_id, duration, open FROM incident_history`;
    assert.deepEqual(history.map((r) => ({ ...r })), [{
      incident_id: id,
      resolved_at: new Date(at(372)),
      resolved_by_check_id: resolved.transitions[0]?.type === "resolved"
        ? resolved.transitions[0].resolvedByCheckId
        : undefined,
      duration: "00:05:12",
      open: false,
    }]);
    // The opening saved again (a redelivery) does not reopen it.
    assert.deepEqual(await saveAlertChange(sql, opened), { incidents: 0, notifications: 0 });
    assert.deepEqual([...await sql`SELECT * FROM open_incidents`], []);
  });
});

Deno.test("incident_history lists every incident newest first", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const first = opening("shop", []);
    const resolved = step(first.state, check("shop", 120, true), []);
    const second = step(resolved.state, check("shop", 180, false), []);
    await saveAlertChange(sql, first);
    await saveAlertChange(sql, resolved);
    await saveAlertChange(sql, second);
    const history = await sql`SELECT incident_id, open FROM incident_history`;
    assert.deepEqual(history.map((r) => [r.incident_id, r.open]), [
      [second.transitions[0]!.incident.id, true],
      [first.transitions[0]!.incident.id, false],
    ]);
  });
});

Deno.test("saveAlertChange() resolves an incident and opens the next of its kind in one change", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const opened = opening("shop", ["chat"]);
    await saveAlertChange(sql, opened);
    const resolved = step(opened.state, check("shop", 120, true), ["chat"]);
    const reopened = step(resolved.state, check("shop", 180, false), ["chat"]);
    const change = {
      states: [resolved.state, reopened.state],
      transitions: [...resolved.transitions, ...reopened.transitions],
      notifications: [...resolved.notifications, ...reopened.notifications],
    };
    assert.deepEqual(await saveAlertChange(sql, change), { incidents: 2, notifications: 2 });
    assert.deepEqual(await loadAlertStates(sql), new Map([["shop", reopened.state]]));
    const open = await sql`SELECT incident_id FROM open_incidents`;
    assert.deepEqual(open.map((r) => r.incident_id), [reopened.transitions[0]!.incident.id]);
  });
});

Deno.test("saveAlertChange() stores an incident opened and resolved within one change as resolved", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const opened = opening("shop", ["chat"]);
    const resolved = step(opened.state, check("shop", 120, true), ["chat"]);
    const change = {
      states: [opened.state, resolved.state],
      transitions: [...opened.transitions, ...resolved.transitions],
      notifications: [...resolved.notifications, ...opened.notifications],
    };
    assert.deepEqual(await saveAlertChange(sql, change), { incidents: 1, notifications: 2 });
    assert.deepEqual([...await sql`SELECT * FROM open_incidents`], []);
    // Listed resolution first, still queued after the opening.
    const queued = await sql`SELECT transition FROM notifications ORDER BY notification_id`;
    assert.deepEqual(queued.map((r) => r.transition), ["opened", "resolved"]);
  });
});

Deno.test("saveAlertChange() refuses a second open incident of a kind, and keeps nothing of the change", async () => {
  await withDatabase(testEnv(), async (sql) => {
    await saveAlertChange(sql, opening("shop", ["chat"]));
    // Another down incident of the site, from a state that forgot the first one.
    const other = step(initialAlertState("shop", at(0)), check("shop", 90, false), ["chat"]);
    await assert.rejects(saveAlertChange(sql, other), /incidents_open/);
    assert.equal(await count(sql, "incidents"), 1);
    assert.equal(await count(sql, "notifications"), 1);
  });
});

Deno.test("saveAlertChange() refuses a transition whose site has no state in the change", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const change = opening("shop", ["chat"]);
    await assert.rejects(
      saveAlertChange(sql, { ...change, states: [] }),
      /Cannot save an alert change without the state of site "shop": its incident "shop\/down\/.*" opened in the change/,
    );
    assert.equal(await count(sql, "incidents"), 0);
  });
});

Deno.test("saveAlertChange() of one change by concurrent transactions stores each row once", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const shop = opening("shop", ["chat", "oncall"]);
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => saveAlertChange(sql, shop)));
    assert.deepEqual(
      outcomes.reduce((sum, o) => ({
        incidents: sum.incidents + o.incidents,
        notifications: sum.notifications + o.notifications,
      })),
      { incidents: 1, notifications: 2 },
    );
    assert.equal(await count(sql, "incidents"), 1);
    assert.equal(await count(sql, "notifications"), 2);
  });
});

Deno.test("nextNotification() gives what is due; a failure waits for its backoff; sent is final", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const change = opening("shop", ["chat"]);
    await saveAlertChange(sql, change);
    const [{ created_at: created }] = await sql<[{ created_at: Date }]>`
      SELECT created_at FROM notifications`;
    // (created_at has microseconds, a Date milliseconds: t(0) is the first whole one after it)
    const t = (ms: number) => new Date(created.getTime() + 1 + ms);
    assert.equal(await nextNotification(sql, "chat", t(-2)), undefined, "not due");
    assert.equal(await nextNotification(sql, "other", t(0)), undefined, "another channel's");

    const due = await nextNotification(sql, "chat", t(0));
    const { notification } = change.notifications[0]!;
    assert.deepEqual(due, {
      id: due!.id,
      key: notification.idempotencyKey,
      body: notification,
      attempts: 0,
    });
    // Nothing is claimed: until marked, it stays due (for the next alerter, after a crash).
    assert.equal((await nextNotification(sql, "chat", t(0)))?.id, due!.id);

    await markNotificationFailed(sql, due!.id, {
      error: 'Channel "chat" (slack) answered HTTP 503\u0000',
      nextAttemptAt: t(30_000),
    });
    assert.equal(await nextNotification(sql, "chat", t(29_999)), undefined);
    const again = await nextNotification(sql, "chat", t(30_000));
    assert.equal(again?.id, due!.id);
    assert.equal(again?.attempts, 1);

    await markNotificationSent(sql, due!.id, t(31_000));
    await markNotificationSent(sql, due!.id, t(32_000));
    await markNotificationFailed(sql, due!.id, { error: "late", nextAttemptAt: t(0) });
    const [row] = await sql`SELECT sent_at, attempts, last_error FROM notifications`;
    assert.deepEqual({ ...row }, {
      sent_at: t(31_000),
      attempts: 1,
      last_error: 'Channel "chat" (slack) answered HTTP 503\uFFFD',
    });
    assert.equal(await nextNotification(sql, "chat", t(86_400_000)), undefined);
  });
});

Deno.test("nextNotification() holds an incident's resolution until its opening is sent", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const opened = opening("shop", ["chat"]);
    const resolved = step(opened.state, check("shop", 120, true), ["chat"]);
    await saveAlertChange(sql, opened);
    await saveAlertChange(sql, resolved);
    const now = new Date(Date.now() + 60_000);
    const first = await nextNotification(sql, "chat", now);
    assert.equal(first?.key.endsWith("/opened"), true);
    await markNotificationFailed(sql, first!.id, { error: "down", nextAttemptAt: now });
    const retried = await nextNotification(sql, "chat", now);
    assert.equal(retried?.id, first!.id, "the resolution went before its opening was sent");
    // Backed off, the opening still holds its resolution back.
    await markNotificationFailed(sql, first!.id, {
      error: "down",
      nextAttemptAt: new Date(now.getTime() + 1),
    });
    assert.equal(await nextNotification(sql, "chat", now), undefined);
    await markNotificationSent(sql, first!.id, now);
    const next = await nextNotification(sql, "chat", now);
    assert.equal(next?.key.endsWith("/resolved"), true);
  });
});

Deno.test("nextNotification() of one channel is not held up by another channel's failing notifications", async () => {
  await withDatabase(testEnv(), async (sql) => {
    for (const site of ["a", "b", "c"]) await saveAlertChange(sql, opening(site, ["broken"]));
    for (const site of ["d", "e"]) await saveAlertChange(sql, opening(site, ["chat"]));
    const now = new Date(Date.now() + 60_000);
    const broken = await nextNotification(sql, "broken", now);
    assert.equal(broken?.key.startsWith("a/"), true);
    await markNotificationFailed(sql, broken!.id, {
      error: 'Channel "broken" (webhook) could not connect',
      nextAttemptAt: new Date(now.getTime() + 30_000),
    });
    // The broken channel's next is its next site; the chat's oldest is its own.
    assert.equal((await nextNotification(sql, "broken", now))?.key.startsWith("b/"), true);
    assert.equal((await nextNotification(sql, "chat", now))?.key.startsWith("d/"), true);
  });
});

Deno.test("lockAlerter() lets one alerter of a group work; the next takes over when it lets go or loses its session", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const stop = new AbortController();
    // Unique: the server's advisory locks are shared by every test running at the same time.
    const group = `test-${crypto.randomUUID()}`;
    const first = await lockAlerter(sql, group, { signal: stop.signal });
    assert.ok(first !== undefined);
    assert.equal(await first.state(), "held");
    const other = await lockAlerter(sql, `${group}-other`, { signal: stop.signal });
    assert.ok(other !== undefined, "another group's alerter waited");
    await other.release();

    let waited = false;
    const second = lockAlerter(sql, group, { signal: stop.signal, waiting: () => waited = true });
    await waitFor("the second alerter to wait", () => waited || undefined);
    await first.release();
    const next = await second;
    assert.ok(next !== undefined);
    assert.equal(await next.state(), "held");

    // Its session ended by the server: the lock is gone, and state() says so.
    // (A bigint advisory key shows as classid, its high half, and objid, its low half.)
    const [{ ended }] = await sql<[{ ended: number }]>`
      SELECT count(pg_terminate_backend(pid))::int AS ended FROM pg_locks
      WHERE locktype = 'advisory' AND granted
        AND (classid::bigint << 32 | objid::bigint) = hashtext(${`monitor alert ${group}`})`;
    assert.equal(ended, 1);
    await waitFor(
      "state() to tell the lock lost",
      async () => await next.state() === "lost" || undefined,
    );
    await next.release();

    // A wait ended by the signal gives no lock.
    const holder = await lockAlerter(sql, group, { signal: stop.signal });
    const waiting = lockAlerter(sql, group, { signal: stop.signal });
    stop.abort();
    assert.equal(await waiting, undefined);
    await holder?.release();
  });
});

Deno.test("lockAlerter() tells a query that failed from a lock lost, and a release lets the next alerter in", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const stop = new AbortController();
    const group = `test-${crypto.randomUUID()}`;
    // The pool, but for its next query once told to fail it: a timeout, say.
    let failNext = false;
    const flaky = new Proxy(sql, {
      apply(target, self, args) {
        if (!failNext) return Reflect.apply(target, self, args);
        failNext = false;
        return Promise.reject(new Error("Query read timeout"));
      },
    });
    const lock = await lockAlerter(flaky, group, { signal: stop.signal });
    assert.ok(lock !== undefined);
    failNext = true;
    assert.equal(await lock.state(), "unknown");
    assert.equal(await lock.state(), "held");
    await lock.release();
    // Released, not leaked: the next alerter takes the lock at once (one that has to wait gives up).
    const next = await lockAlerter(sql, group, {
      signal: stop.signal,
      waiting: () => stop.abort(),
    });
    assert.ok(next !== undefined, "the lock was still held");
    await next.release();
  });
});

Deno.test("the open_incidents and incident_history views have the documented columns", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const columns = async (view: string) =>
      (await sql<{ column_name: string; data_type: string }[]>`
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = ${view}
        ORDER BY ordinal_position`).map((c) => `${c.column_name} ${c.data_type}`);
    const cause = [
      "cause_error_kind text",
      "cause_status_code integer",
      "cause_response_time_ms double precision",
      "cause_message text",
    ];
    const head = ["incident_id text", "site text", "site_name text", "kind text", "severity text"];
    assert.deepEqual(await columns("open_incidents"), [
      ...head,
      "regions ARRAY",
      "opened_at timestamp with time zone",
      "open_for interval",
      "opened_by_check_id uuid",
      ...cause,
    ]);
    assert.deepEqual(await columns("incident_history"), [
      ...head,
      "regions ARRAY",
      "opened_at timestamp with time zone",
      "resolved_at timestamp with time zone",
      "duration interval",
      "open boolean",
      "opened_by_check_id uuid",
      "resolved_by_check_id uuid",
      ...cause,
    ]);
  });
});
