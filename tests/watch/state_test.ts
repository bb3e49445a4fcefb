import assert from "node:assert/strict";
import fc from "fast-check";
import type { CheckResult } from "../../src/check/result.ts";
import { historyLength, recentChecks } from "../../src/watch/history.ts";
import { rowOf, type SiteState } from "../../src/watch/site.ts";
import { displayed, initialState, reduce, type WatchState } from "../../src/watch/state.ts";
import { comparator, matches, siteAt, type Table } from "../../src/watch/table.ts";
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

/** The state at `nowMs`. */
const tick = (state: WatchState, nowMs: number) => reduce(state, { type: "tick", nowMs });

const press = (state: WatchState, input: string, key = {}) =>
  reduce(state, { type: "key", input, key, page: 10 });

/** Every row the filter lets through, in order (the view derives only those on screen). */
const rowsOf = (state: WatchState) => displayed(state).shown.map((site) => rowOf(site, state));

/** A site as checked from a region, as the live table holds it. */
const siteOf = (state: WatchState, siteId: string, region = "default"): SiteState | undefined =>
  siteAt(state.live, siteId, region);

Deno.test("rowOf() marks sites down, degraded, stale and up", () => {
  const state = withResults([
    ...history("down", [true, true, false], 100, 30),
    ...history("flaky", [true, false, true, true], 100, 20),
    ...history("fine", [true, true, true, true, true, true]),
    ...history("gone", [true, true]), // every 10 s, the last at 10 s: stale after 30 s
  ]);
  const rows = rowsOf(tick(state, T0 + 55_000));
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

Deno.test("rowOf() counts only the window for uptime and p95", () => {
  const state = withResults(history("s", [false, false, true, true]), initialState(25_000));
  const [row] = rowsOf(tick(state, T0 + 40_000)); // window: from 15 s, so the checks at 20 s and 30 s
  assert.equal(row!.uptime, 1);
  assert.equal(row!.p95Ms, 103);
});

Deno.test("keys cycle the sort, filter by name, move the selection and open the detail", () => {
  let state = withResults([
    ...history("beta", [true], 300),
    ...history("alpha", [false]),
    ...history("gamma", [true], 50),
  ], initialState(15 * 60_000, { nowMs: T0 + 5_000 }));
  const order = () => rowsOf(state).map((r) => r.siteId);
  assert.deepEqual(order(), ["alpha", "beta", "gamma"]); // status: down first, then by name
  state = press(state, "s");
  assert.equal(state.sort, "name");
  state = press(state, "s");
  assert.deepEqual(order(), ["alpha", "beta", "gamma"]); // latency: no response, 300 ms, 50 ms
  state = press(state, "s");
  assert.equal(state.sort, "status");

  state = press(state, "", { downArrow: true });
  state = press(state, "", { downArrow: true });
  assert.equal(state.selected, "beta@default");
  state = press(state, "", { upArrow: true });
  state = press(state, "", { upArrow: true });
  assert.equal(state.selected, "alpha@default", "the selection stops at the top");
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
  assert.deepEqual(rowsOf(state).map((r) => r.siteId), ["a"]);
  state = press(state, "p");
  assert.deepEqual(rowsOf(state).map((r) => r.siteId), ["a", "b"]);
});

Deno.test("p keeps showing the checks it froze, whatever arrives after", () => {
  // The rows' checks are shared with the frozen copy: each must keep showing its own.
  const checks = history("s", Array.from({ length: 125 }, (_, i) => i % 7 !== 0));
  let state = press(withResults(checks.slice(0, 100)), "p");
  const recentOf = (table: Table) => recentChecks(siteAt(table, "s", "default")!.recent);
  const before = recentOf(state.frozen!);
  state = withResults(checks.slice(100, 101), state); // written after the frozen checks
  state = withResults(history("s", [true], 700, 5), state); // in between two held checks
  state = withResults(checks.slice(101), state); // past the room the words have
  assert.deepEqual(recentOf(state.frozen!), before);
  assert.deepEqual(rowsOf(state)[0]!.responseTimes, before.map((c) => c.responseTimeMs));
  const times = [...checks.map((c) => Date.parse(c.checkedAt)), T0 + 5_000].toSorted();
  assert.deepEqual(recentOf(state.live).map((c) => c.checkedAtMs), times.slice(-120));
  state = press(state, "p");
  assert.equal(rowsOf(state)[0]!.responseTimes.length, 120);
});

Deno.test("a site keeps its last 120 checks in time order, whatever order they arrive in", () => {
  const results = history("s", Array.from({ length: 130 }, () => true));
  const state = withResults([...results.slice(65), ...results.slice(0, 65)]);
  const recent = recentChecks(siteOf(state, "s")!.recent);
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
  const [row] = rowsOf(state);
  assert.equal(row?.siteId, "evil\uFFFD]0;x\uFFFD");
  assert.equal(row?.siteName, "Evil\uFFFD[2J");
  const site = siteOf(state, row!.siteId);
  assert.equal(site?.url, "https://evil.example/\uFFFD");
  assert.equal(recentChecks(site!.recent)[0]?.errorMessage, "header \uFFFD[31mred");
  assert.equal(site?.details.certSubject, "CN=\uFFFD[2Jevil");
  assert.equal(site?.details.certIssuer, "CN=\uFFFDCA");
  assert.deepEqual(site?.details.certAltNames, ["DNS:a\uFFFD\uFFFDb"]);
  assert.equal(site?.details.tlsVersion, "TLSv1.3\uFFFD");
});

Deno.test("a site's connection details are its newest check's, even when an older one arrives later", () => {
  const newer = makeResult({ siteId: "s", checkedAt: at(20), dnsMs: 2, tlsVersion: "TLSv1.3" });
  const older = makeResult({ siteId: "s", checkedAt: at(10), dnsMs: 9, tlsVersion: "TLSv1.2" });
  const state = withResults([older], withResults([newer]));
  assert.equal(historyLength(siteOf(state, "s")!.recent), 2);
  assert.equal(siteOf(state, "s")?.details.dnsMs, 2);
  assert.equal(siteOf(state, "s")?.details.tlsVersion, "TLSv1.3");
});

Deno.test("checks delivered again count once, in whatever order they come", () => {
  // Every 10 s for 300 s; every tenth check (4 s, 14 s, 24 s) down, response times 100 + i ms.
  const ups = Array.from({ length: 30 }, (_, i) => i % 10 !== 4);
  const shop = history("shop", ups, 100);
  const api = history("api", ups, 200);
  const once = withResults([...shop, ...api]);

  // The watch had seen the first 20 checks of each site when they came again (Kafka delivers at
  // least once), out of order and mixed with the 10 new ones, one of them twice in the same batch.
  let replayed = withResults([...shop.slice(0, 20), ...api.slice(0, 20)]);
  const order = Array.from({ length: 30 }, (_, i) => (i * 7) % 30); // every index, shuffled
  const again = order.flatMap((i) => [shop[i]!, api[29 - i]!]);
  replayed = reduce(replayed, { type: "results", results: again.slice(0, 25) });
  replayed = reduce(replayed, { type: "results", results: [...again.slice(25), shop[29]!] });

  const nowMs = T0 + 295_000;
  const rows = rowsOf(tick(replayed, nowMs));
  assert.deepEqual(rows, rowsOf(tick(once, nowMs)));
  for (const row of rows) {
    assert.equal(row.status, "up", `${row.siteId}: the median gap is still 10 s, not 0`);
    assert.equal(row.intervalMs, 10_000);
    assert.equal(row.uptime, 27 / 30);
    assert.equal(row.responseTimes.length, 30);
  }
  assert.equal(rows.find((r) => r.siteId === "shop")!.p95Ms, 128); // 26th of 27 response times
  assert.equal(rows.find((r) => r.siteId === "api")!.p95Ms, 228);
  for (const site of ["shop", "api"]) {
    const checks = recentChecks(siteOf(replayed, site)!.recent);
    assert.equal(new Set(checks.map((c) => c.checkedAtMs)).size, 30, `${site}: each check once`);
    assert.deepEqual(checks, recentChecks(siteOf(once, site)!.recent));
  }
});

Deno.test("a replay of checks already held leaves the state as it was", () => {
  const results = history("s", [true, false, true]);
  const state = withResults(results);
  assert.equal(reduce(state, { type: "results", results: results.toReversed() }), state);
});

Deno.test("a replay of more than 120 checks keeps the last 120, each once", () => {
  const results = history("s", Array.from({ length: 130 }, (_, i) => i % 3 !== 0));
  const once = withResults(results);
  const before = recentChecks(siteOf(once, "s")!.recent);
  const replayed = withResults([...results.toReversed(), ...results.slice(40)], once);
  const recent = recentChecks(siteOf(replayed, "s")!.recent);
  assert.deepEqual(recent, before);
  assert.equal(recent.length, 120);
  assert.equal(recent[0]!.checkedAtMs, T0 + 100_000, "the oldest 10 stay out");
  assert.equal(new Set(recent.map((c) => c.checkedAtMs)).size, 120);
});

Deno.test("checks made in the same millisecond are each kept, and each once when delivered again", () => {
  const checkedAt = at(10);
  const same = [1, 2, 3].map((i) => makeResult({ siteId: "s", checkedAt, responseTimeMs: i }));
  const around = [...history("s", [true]), ...same, ...history("s", [true], 100, 20)];
  const once = withResults(around);
  assert.equal(historyLength(siteOf(once, "s")!.recent), 5);
  const replayed = withResults([...same.toReversed(), ...around], once);
  assert.equal(replayed, once, "nothing new");
});

/** `results` as checked from `region` by `checker`. */
const from = (region: string, results: CheckResult[], checker = `${region}-1:4242`) =>
  results.map((result) => ({ ...result, region, checker }));

Deno.test("a site checked from several regions is a row per region, each with its own status and checker", () => {
  const state = tick(
    withResults([
      ...from("eu", history("shop", [true, true, true])),
      ...from("us", history("shop", [true, true, false])),
      ...from("eu", history("api", [true, true, true])),
      // From a checker not told its region: "default".
      ...history("blog", [true, true]),
    ]),
    T0 + 25_000,
  );
  assert.deepEqual(rowsOf(state).map((r) => [r.key, r.status]), [
    ["shop@us", "down"],
    ["api@eu", "up"],
    ["blog@default", "up"],
    ["shop@eu", "up"],
  ]);
  assert.deepEqual(state.live.regions, ["default", "eu", "us"]);
  assert.equal(state.live.siteIds.size, 3, "shop counts once, whatever its regions");
  assert.equal(siteOf(state, "shop", "us")?.checker, "us-1:4242");
  assert.equal(siteOf(state, "blog")?.checker, "test-host:1");
  assert.equal(siteOf(state, "shop", "default"), undefined);
});

Deno.test("--region keeps only the results of the regions asked for", () => {
  const start = initialState(15 * 60_000, { regions: ["eu", "ap"] });
  const state = withResults([
    ...from("eu", history("shop", [true])),
    ...from("us", history("shop", [false])),
    ...from("ap", history("api", [true])),
    ...history("blog", [true]),
  ], start);
  assert.deepEqual(rowsOf(state).map((r) => r.key), ["api@ap", "shop@eu"]);
  assert.deepEqual(state.live.regions, ["ap", "eu"]);
  const onlyOthers = from("us", history("api", [true], 100, 100));
  assert.equal(withResults(onlyOthers, state), state, "a batch of other regions changes nothing");
});

Deno.test("Page Down, Page Up, Home and End move the selection a screen at a time or to either end", () => {
  let state = withResults(
    Array.from({ length: 30 }, (_, i) => history(`s${String(i).padStart(2, "0")}`, [true])).flat(),
  );
  const selected = () => state.selected?.replace("@default", "");
  state = press(state, "", { pageDown: true }); // page: 10 rows
  assert.equal(selected(), "s09");
  state = press(state, "", { pageDown: true });
  assert.equal(selected(), "s19");
  state = press(state, "", { end: true });
  assert.equal(selected(), "s29");
  state = press(state, "", { pageDown: true });
  assert.equal(selected(), "s29", "the selection stops at the bottom");
  state = press(state, "", { pageUp: true });
  assert.equal(selected(), "s19");
  state = press(state, "", { home: true });
  assert.equal(selected(), "s00");
});

/** What an operation on the state in the property below may be. */
type Operation =
  | { kind: "results"; checks: { site: number; region: string; second: number; up: boolean }[] }
  | { kind: "tick"; second: number }
  | { kind: "key"; key: string };

const KEYS: Record<string, [string, object]> = {
  sort: ["s", {}],
  pause: ["p", {}],
  filter: ["/", {}],
  one: ["1", {}],
  h: ["h", {}],
  enter: ["", { return: true }],
  escape: ["", { escape: true }],
  backspace: ["", { backspace: true }],
};
const NAMES = ["Shop", "shop", "API", "Ärger", "Blog 1", "blog 11"];

Deno.test("the rows kept in order as results, ticks, sorts, filters and pauses come are the rows sorted afresh", () => {
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    fc.record({
      kind: fc.constant("results" as const),
      checks: fc.array(
        fc.record({
          site: fc.integer({ min: 0, max: 11 }),
          region: fc.constantFrom("eu", "us", "ap"),
          second: fc.integer({ min: 0, max: 600 }),
          up: fc.boolean(),
        }),
        { maxLength: 15 },
      ),
    }),
    fc.record({ kind: fc.constant("tick" as const), second: fc.integer({ min: 0, max: 1_500 }) }),
    fc.record({ kind: fc.constant("key" as const), key: fc.constantFrom(...Object.keys(KEYS)) }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
      let state = initialState(300_000, { nowMs: T0 });
      for (const op of operations) {
        if (op.kind === "results") {
          state = withResults(
            op.checks.map((c) =>
              makeResult({
                siteId: `s${c.site}`,
                siteName: NAMES[c.site % NAMES.length]!,
                region: c.region,
                checkedAt: at(c.second),
                up: c.up,
                responseTimeMs: c.up ? 10 + c.site : null,
                error: c.up ? null : { kind: "timeout", message: "Timeout" },
              })
            ),
            state,
          );
        } else if (op.kind === "tick") {
          state = tick(state, T0 + op.second * 1000);
        } else {
          const [input, key] = KEYS[op.key]!;
          state = press(state, input, key);
        }
        for (const table of [state.live, state.frozen ?? state.live]) {
          const sorted = [...table.rows.values()].flatMap((byId) => [...byId.values()])
            .toSorted(comparator(state.sort, state.nowMs));
          assert.deepEqual(table.order.map((s) => s.key), sorted.map((s) => s.key));
          assert.deepEqual(
            table.shown.map((s) => s.key),
            sorted.filter((s) => matches(s, state.filter)).map((s) => s.key),
          );
          assert.equal(table.siteIds.size, new Set(sorted.map((s) => s.siteId)).size);
          assert.deepEqual(table.regions, [...new Set(sorted.map((s) => s.region))].sort());
        }
      }
    }),
    { numRuns: 300 },
  );
});
