import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check/result.ts";
import { initialState, reduce, rowsOf, type WatchState } from "../../src/watch/state.ts";
import { makeResult } from "../_helpers/results.ts";

const T0 = Date.parse("2026-11-25T10:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/** Results of one site every 10 s from `start` seconds, `up` decided per check. */
function history(siteId: string, ups: boolean[], responseTimeMs = 100, start = 0): CheckResult[] {
  return ups.map((up, i) =>
    makeResult({
      siteId,
      siteName: siteId.toUpperCase(),
      checkedAt: at(start + i * 10),
      up,
      statusCode: up ? 200 : 503,
      responseTimeMs: up ? responseTimeMs + i : null,
      error: up ? null : { kind: "unexpected_status", message: "Status 503" },
    })
  );
}

function withResults(results: CheckResult[], state = initialState(15 * 60_000)): WatchState {
  return reduce(state, { type: "results", results });
}

const press = (state: WatchState, input: string, key = {}, now = T0 + 60_000) =>
  reduce(state, {
    type: "key",
    input,
    key,
    visible: rowsOf(state, now).map((r) => r.siteId),
  });

Deno.test("rowsOf() marks sites down, degraded, stale and up", () => {
  const state = withResults([
    ...history("down", [true, true, false], 100, 30),
    ...history("flaky", [true, false, true, true], 100, 20),
    ...history("fine", [true, true, true, true, true, true]),
    ...history("gone", [true, true]), // every 10 s, the last at 10 s: stale after 30 s
  ]);
  const rows = rowsOf(state, T0 + 55_000);
  assert.deepEqual(rows.map((r) => [r.siteId, r.status]), [
    ["down", "down"],
    ["flaky", "degraded"],
    ["gone", "stale"],
    ["fine", "up"],
  ]);
  const flaky = rows.find((r) => r.siteId === "flaky")!;
  assert.equal(flaky.uptime, 0.75);
  assert.equal(flaky.intervalMs, 10_000);
  assert.equal(flaky.p95Ms, 103);
  assert.deepEqual(flaky.responseTimes, [100, null, 102, 103]);
});

Deno.test("rowsOf() counts only the window for uptime and p95", () => {
  const state = withResults(history("s", [false, false, true, true]), initialState(25_000));
  const [row] = rowsOf(state, T0 + 40_000); // window: from 15 s, so the checks at 20 s and 30 s
  assert.equal(row!.uptime, 1);
  assert.equal(row!.p95Ms, 103);
});

Deno.test("keys cycle the sort, filter by name, move the selection and open the detail", () => {
  let state = withResults([
    ...history("beta", [true], 300),
    ...history("alpha", [false]),
    ...history("gamma", [true], 50),
  ]);
  const order = () => rowsOf(state, T0 + 5_000).map((r) => r.siteId);
  assert.deepEqual(order(), ["alpha", "beta", "gamma"]); // status: down first, then by name
  state = press(state, "s");
  assert.equal(state.sort, "name");
  state = press(state, "s");
  assert.deepEqual(order(), ["alpha", "beta", "gamma"]); // latency: no response, 300 ms, 50 ms
  state = press(state, "s");
  assert.equal(state.sort, "status");

  state = press(state, "", { downArrow: true });
  state = press(state, "", { downArrow: true });
  assert.equal(state.selected, "beta");
  state = press(state, "", { upArrow: true });
  state = press(state, "", { upArrow: true });
  assert.equal(state.selected, "alpha", "the selection stops at the top");
  state = press(state, "", { return: true });
  assert.equal(state.detail, true);
  state = press(state, "", { escape: true });
  assert.equal(state.detail, false);

  state = press(state, "/");
  for (const c of "MM") state = press(state, c);
  state = press(state, "", { return: true });
  assert.equal(state.editingFilter, false);
  assert.deepEqual(order(), ["gamma"], "filtered by name, case-insensitively");
  state = press(state, "", { escape: true });
  assert.deepEqual(order(), ["alpha", "beta", "gamma"]);
});

Deno.test("p freezes the view while results keep arriving", () => {
  let state = withResults(history("a", [true]));
  state = press(state, "p");
  state = reduce(state, { type: "results", results: history("b", [true]) });
  assert.deepEqual(rowsOf(state, T0).map((r) => r.siteId), ["a"]);
  state = press(state, "p");
  assert.deepEqual(rowsOf(state, T0).map((r) => r.siteId), ["a", "b"]);
});

Deno.test("a site keeps its last 120 checks in time order, whatever order they arrive in", () => {
  const results = history("s", Array.from({ length: 130 }, () => true));
  const state = withResults([...results.slice(65), ...results.slice(0, 65)]);
  const recent = state.sites.get("s")!.recent;
  assert.equal(recent.length, 120);
  assert.deepEqual(recent.map((c) => c.checkedAtMs), recent.map((c) => c.checkedAtMs).toSorted());
  assert.equal(recent.at(-1)!.checkedAtMs, T0 + 1_290_000);
});

Deno.test("text from the topic reaches the screen without control characters", () => {
  const state = withResults([
    makeResult({
      siteId: "evil\u001b]0;x\u0007",
      siteName: "Evil\u001b[2J",
      url: "https://evil.example/\u009b",
      up: false,
      error: { kind: "invalid_response", message: "header \u001b[31mred" },
      certSubject: "CN=\u001b[2Jevil",
      certIssuer: "CN=\u009bCA",
      certAltNames: ["DNS:a\r\nb"],
      tlsVersion: "TLSv1.3\u0007",
    }),
  ]);
  const [row] = rowsOf(state, Date.now());
  assert.equal(row?.siteId, "evil\uFFFD]0;x\uFFFD");
  assert.equal(row?.siteName, "Evil\uFFFD[2J");
  const site = state.sites.get(row!.siteId);
  assert.equal(site?.url, "https://evil.example/\uFFFD");
  assert.equal(site?.recent[0]?.errorMessage, "header \uFFFD[31mred");
  assert.equal(site?.details.certSubject, "CN=\uFFFD[2Jevil");
  assert.equal(site?.details.certIssuer, "CN=\uFFFDCA");
  assert.deepEqual(site?.details.certAltNames, ["DNS:a\uFFFD\uFFFDb"]);
  assert.equal(site?.details.tlsVersion, "TLSv1.3\uFFFD");
});

Deno.test("a site's connection details are its newest check's, even when an older one arrives later", () => {
  const newer = makeResult({ siteId: "s", checkedAt: at(20), dnsMs: 2, tlsVersion: "TLSv1.3" });
  const older = makeResult({ siteId: "s", checkedAt: at(10), dnsMs: 9, tlsVersion: "TLSv1.2" });
  const state = withResults([older], withResults([newer]));
  assert.equal(state.sites.get("s")?.recent.length, 2);
  assert.equal(state.sites.get("s")?.details.dnsMs, 2);
  assert.equal(state.sites.get("s")?.details.tlsVersion, "TLSv1.3");
});

Deno.test("a backfill delivered again after a reconnect counts each check once", () => {
  // Every 10 s for 300 s; every tenth check (4 s, 14 s, 24 s) down, response times 100 + i ms.
  const ups = Array.from({ length: 30 }, (_, i) => i % 10 !== 4);
  const shop = history("shop", ups, 100);
  const api = history("api", ups, 200);
  const once = withResults([...shop, ...api]);

  // The watch had seen the first 20 checks of each site when the connection dropped; the source
  // rewinds to the start of the backfill window and delivers them again, out of order and mixed
  // with the 10 new ones, one of them twice in the same batch.
  let replayed = withResults([...shop.slice(0, 20), ...api.slice(0, 20)]);
  const order = Array.from({ length: 30 }, (_, i) => (i * 7) % 30); // every index, shuffled
  const again = order.flatMap((i) => [shop[i]!, api[29 - i]!]);
  replayed = reduce(replayed, { type: "results", results: again.slice(0, 25) });
  replayed = reduce(replayed, { type: "results", results: [...again.slice(25), shop[29]!] });

  const nowMs = T0 + 295_000;
  const rows = rowsOf(replayed, nowMs);
  assert.deepEqual(rows, rowsOf(once, nowMs));
  for (const row of rows) {
    assert.equal(row.status, "up", `${row.siteId}: the median gap is still 10 s, not 0`);
    assert.equal(row.intervalMs, 10_000);
    assert.equal(row.uptime, 27 / 30);
    assert.equal(row.responseTimes.length, 30);
  }
  assert.equal(rows.find((r) => r.siteId === "shop")!.p95Ms, 128); // 26th of 27 response times
  assert.equal(rows.find((r) => r.siteId === "api")!.p95Ms, 228);
  for (const site of ["shop", "api"]) {
    const ids = replayed.sites.get(site)!.recent.map((c) => c.checkId);
    assert.equal(new Set(ids).size, 30, `${site}: every check held once (the view's keys)`);
    assert.deepEqual(ids, once.sites.get(site)!.recent.map((c) => c.checkId));
  }
});

Deno.test("a replay of checks already held leaves the state as it was", () => {
  const results = history("s", [true, false, true]);
  const state = withResults(results);
  assert.equal(reduce(state, { type: "results", results: results.toReversed() }), state);
});

Deno.test("a replay of more than 120 checks keeps the last 120 once, and as many ids", () => {
  const results = history("s", Array.from({ length: 130 }, (_, i) => i % 3 !== 0));
  const once = withResults(results);
  const replayed = withResults([...results.toReversed(), ...results.slice(40)], once);
  const site = replayed.sites.get("s")!;
  assert.deepEqual(site.recent, once.sites.get("s")!.recent);
  assert.equal(site.recent.length, 120);
  assert.equal(site.recent[0]!.checkedAtMs, T0 + 100_000, "the oldest 10 stay out");
  assert.equal(site.checkIds.size, 120, "the ids held are bounded by the checks held");
  assert.deepEqual([...site.checkIds].toSorted(), site.recent.map((c) => c.checkId).toSorted());
});
