import assert from "node:assert/strict";
import { applyAlertEvent, initialAlertState } from "../../src/alert/incidents.ts";
import { alertStateSchema } from "../../src/alert/state.ts";
import { at, check, RULE, run, series, summary } from "./_checks.ts";

Deno.test("a down incident opens on the third failed check in a row and carries its cause", () => {
  const { transitions } = run(series("c", ["ok", "fail", "fail"]));
  assert.deepEqual(transitions, []);
  const opened = run(series("c", ["ok", "fail", "fail", "fail"])).transitions;
  assert.deepEqual(opened, [{
    type: "opened",
    incident: {
      id: "shop/down/c4",
      siteId: "shop",
      kind: "down",
      openedAt: at(240),
      openedByCheckId: "c4",
      regions: ["eu"],
      cause: {
        errorKind: "unexpected_status",
        statusCode: 503,
        responseTimeMs: 40,
        message: "Status 503 is not in 200-399",
      },
    },
  }]);
});

Deno.test("a down incident resolves on the second good check in a row, naming that check", () => {
  const { transitions } = run(series("c", ["fail", "fail", "fail", "ok", "fail", "ok", "slow"]));
  assert.deepEqual(summary(transitions), ["opened down", "resolved down"]);
  const resolved = transitions[1]!;
  assert.equal(resolved.type, "resolved");
  assert.equal(resolved.type === "resolved" && resolved.resolvedByCheckId, "c7");
  assert.equal(resolved.type === "resolved" && resolved.resolvedAt, at(420));
  assert.equal(resolved.incident.id, "shop/down/c3");
});

Deno.test("a site that flaps (fail, ok, fail, ok) never opens an incident", () => {
  const outcomes = Array.from({ length: 40 }, (_, i) => i % 2 === 0 ? "fail" : "ok" as const);
  assert.deepEqual(run(series("c", outcomes)).transitions, []);
  const twoAndOne = Array.from({ length: 40 }, (_, i) => i % 3 === 2 ? "ok" : "fail" as const);
  assert.deepEqual(run(series("c", twoAndOne)).transitions, []);
});

Deno.test("a check applied again, or older than its region's newest, changes nothing", () => {
  const checks = series("c", ["fail", "fail"]);
  const before = run(checks);
  const again = run([checks[1]!, checks[0]!], RULE, before.state);
  assert.deepEqual(again.state, before.state);
  // Were they counted, this third failure would open an incident.
  assert.deepEqual(run([check("c3", 180, "fail")], RULE, again.state).transitions.length, 1);
  assert.deepEqual(run([checks[0]!, checks[1]!, checks[1]!, checks[0]!]).state, before.state);
});

Deno.test("with regions: majority, one failing region of three opens nothing", () => {
  const events = [0, 1, 2, 3, 4, 5].flatMap((i) => [
    check(`eu${i}`, 60 + i * 60, "fail", "eu"),
    check(`us${i}`, 61 + i * 60, "ok", "us"),
    check(`ap${i}`, 62 + i * 60, "ok", "ap"),
  ]);
  assert.deepEqual(run(events, { ...RULE, regions: "majority" }).transitions, []);
});

Deno.test("with regions: majority, two failing regions of three open an incident naming both", () => {
  const events = [0, 1, 2, 3, 4].flatMap((i) => [
    check(`eu${i}`, 60 + i * 60, "fail", "eu"),
    check(`us${i}`, 61 + i * 60, i < 3 ? "fail" : "ok", "us"),
    check(`ap${i}`, 62 + i * 60, "ok", "ap"),
  ]);
  const { transitions } = run(events, { ...RULE, regions: "majority" });
  assert.deepEqual(summary(transitions), ["opened down", "resolved down"]);
  const [opened, resolved] = transitions;
  assert.equal(opened!.incident.openedByCheckId, "us2");
  assert.deepEqual(opened!.incident.regions, ["eu", "us"]);
  // us recovered after two good checks: one region of three is not a majority.
  assert.equal(resolved!.type === "resolved" && resolved!.resolvedByCheckId, "us4");
});

Deno.test("a region silent for stale_after no longer counts toward the quorum", () => {
  const rule = { ...RULE, regions: "majority" as const };
  // us reported once, long ago; eu alone reports since: a majority of one is eu.
  const events = [check("us0", 0, "ok", "us"), ...series("eu", ["fail", "fail", "fail"], 600)];
  assert.deepEqual(summary(run(events, rule).transitions), ["opened down"]);
  // Still reporting (within 3 minutes), us would have made it 1 of 2: no majority.
  const recent = [check("us0", 540, "ok", "us"), ...series("eu", ["fail", "fail", "fail"], 600)];
  assert.deepEqual(run(recent, rule).transitions, []);
});

Deno.test("regions: 2 with one region reporting lets that region alone decide", () => {
  const { transitions } = run(series("eu", ["fail", "fail", "fail"]), { ...RULE, regions: 2 });
  assert.deepEqual(summary(transitions), ["opened down"]);
});

Deno.test("slow checks open a degraded incident; fast ones resolve it; failures count as neither", () => {
  const { transitions } = run(
    series("c", ["slow", "slow", "fail", "slow", "ok", "fail", "ok"]),
  );
  assert.deepEqual(summary(transitions), ["opened degraded", "resolved degraded"]);
  const [opened, resolved] = transitions;
  assert.equal(opened!.incident.id, "shop/degraded/c4");
  assert.deepEqual(opened!.incident.cause, {
    errorKind: null,
    statusCode: 200,
    responseTimeMs: 5_000,
    message: "Response time 5000 ms is over 2s",
  });
  assert.equal(resolved!.type === "resolved" && resolved!.resolvedByCheckId, "c7");
});

Deno.test("without a response time, no check is slow", () => {
  const rule = { ...RULE, responseTimeMs: null };
  assert.deepEqual(run(series("c", ["slow", "slow", "slow", "slow"]), rule).transitions, []);
});

Deno.test("a site with no result for stale_after goes stale on a tick; the next result resolves it", () => {
  const checks = series("c", ["ok", "ok"]); // at 60 s and 120 s
  const { transitions, state } = run([
    ...checks,
    { tick: 299 }, // 179 s after the newest check
    { tick: 300 },
    { tick: 400 },
    check("c3", 410, "ok"),
  ]);
  assert.deepEqual(summary(transitions), ["opened stale", "resolved stale"]);
  const [opened, resolved] = transitions;
  assert.deepEqual(opened!.incident, {
    id: "shop/stale/after-c2",
    siteId: "shop",
    kind: "stale",
    openedAt: at(300),
    openedByCheckId: null,
    regions: ["eu"],
    cause: {
      errorKind: null,
      statusCode: null,
      responseTimeMs: null,
      message: `No result for 3m: the newest check started at ${at(120)}`,
    },
  });
  assert.equal(resolved!.type === "resolved" && resolved!.resolvedByCheckId, "c3");
  assert.equal(state.open.stale, null);
});

Deno.test("a site never heard of goes stale stale_after after following began", () => {
  const { transitions } = run([{ tick: 179 }, { tick: 180 }]);
  assert.deepEqual(summary(transitions), ["opened stale"]);
  assert.equal(transitions[0]!.incident.id, `shop/stale/since-${Date.parse(at(0))}`);
});

Deno.test("a late result resolves a stale incident no earlier than it opened", () => {
  const { transitions } = run([check("c1", 60, "ok"), { tick: 240 }, check("c2", 200, "ok")]);
  assert.deepEqual(summary(transitions), ["opened stale", "resolved stale"]);
  assert.equal(transitions[1]!.type === "resolved" && transitions[1]!.resolvedAt, at(240));
});

Deno.test("a result no newer than the newest does not resolve a stale incident", () => {
  const { transitions } = run([
    check("eu1", 60, "ok", "eu"),
    { tick: 240 },
    check("us1", 30, "ok", "us"), // older than eu's newest: tells nothing new
  ]);
  assert.deepEqual(summary(transitions), ["opened stale"]);
});

Deno.test("the down, degraded and stale incidents are each at most one, and independent", () => {
  const { transitions, state } = run([
    ...series("c", ["fail", "fail", "fail"]),
    { tick: 400 },
    { tick: 500 },
    ...series("d", ["fail", "slow", "slow", "slow"], 600),
  ]);
  assert.deepEqual(summary(transitions), [
    "opened down",
    "opened stale",
    "resolved stale",
    "resolved down",
    "opened degraded",
  ]);
  assert.equal(state.open.degraded?.id, "shop/degraded/d4");
});

Deno.test("a region named like an Object.prototype property is a region like any other", () => {
  const { transitions } = run(series("c", ["fail", "fail", "fail"], 60, "constructor"));
  assert.deepEqual(transitions[0]?.incident.regions, ["constructor"]);
});

Deno.test("applyAlertEvent() refuses a result of another site", () => {
  assert.throws(
    () =>
      applyAlertEvent(RULE, initialAlertState("shop", at(0)), {
        type: "result",
        result: check("c1", 60, "ok", "eu", "blog"),
      }),
    { message: 'A result of site "blog" was applied to the alert state of "shop"' },
  );
});

Deno.test("the state survives JSON and validates against its schema", () => {
  const { state } = run([...series("c", ["fail", "fail", "fail", "slow"]), { tick: 600 }]);
  const stored = JSON.parse(JSON.stringify(state));
  assert.deepEqual(alertStateSchema.parse(stored), state);
  assert.equal(alertStateSchema.safeParse({ ...stored, version: 2 }).success, false);
});

Deno.test("applyAlertEvent() leaves the state it was given as it was", () => {
  const state = run(series("c", ["fail", "fail"])).state;
  const copy = structuredClone(state);
  applyAlertEvent(RULE, state, { type: "result", result: check("c3", 180, "fail") });
  applyAlertEvent(RULE, state, { type: "tick", at: at(10_000) });
  assert.deepEqual(state, copy);
});
