import assert from "node:assert/strict";
import { render } from "ink-testing-library";
import { stripVTControlCharacters } from "node:util";
import stringWidth from "string-width";
import type { CheckResult } from "../../src/check/result.ts";
import { WatchApp, type WatchSource } from "../../src/watch/app.tsx";
import { initialState, reduce, rowsOf, type WatchEvent } from "../../src/watch/state.ts";
import { sparkline, WatchView } from "../../src/watch/view.tsx";
import { makeResult } from "../_helpers/results.ts";

const NOW = Date.parse("2026-11-25T10:01:00.000Z");
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

/** A source the test pushes events through. */
function pushSource(): WatchSource & { push(event: WatchEvent): void } {
  let dispatch: ((event: WatchEvent) => void) | undefined;
  return {
    subscribe(d) {
      dispatch = d;
      return () => dispatch = undefined;
    },
    push: (event) => dispatch!(event),
  };
}

const results: CheckResult[] = [
  makeResult({ siteId: "shop", siteName: "Shop", checkedAt: ago(20), responseTimeMs: 180 }),
  makeResult({ siteId: "shop", siteName: "Shop", checkedAt: ago(10), responseTimeMs: 240 }),
  makeResult({
    siteId: "api",
    siteName: "API",
    checkedAt: ago(5),
    up: false,
    statusCode: 503,
    responseTimeMs: 12,
    error: { kind: "unexpected_status", message: "Status 503" },
  }),
  makeResult({ siteId: "blog", siteName: "Blog", checkedAt: ago(50), responseTimeMs: 90 }),
  makeResult({ siteId: "blog", siteName: "Blog", checkedAt: ago(45), responseTimeMs: 95 }),
];

const tick = () => new Promise((resolve) => setTimeout(resolve, 30));
const lines = (frame: string | undefined) => (frame ?? "").split("\n");

Deno.test("WatchApp shows a row per site, down first, with a mark that reads without colour", async () => {
  const source = pushSource();
  const app = render(
    <WatchApp source={source} windowMs={900_000} broker="b:9092" topic="checks" now={() => NOW} />,
  );
  try {
    assert.match(app.lastFrame()!, /Waiting for check results/);
    source.push({ type: "connection", connection: { state: "connected" } });
    source.push({ type: "results", results });
    source.push({ type: "rate", messagesPerSecond: 2.5, lag: 7 });
    await tick();
    const frame = lines(app.lastFrame());
    const row = (site: string) => frame.find((line) => line.includes(site)) ?? "";
    // 100 columns (the testing library's terminal): no room for the sparkline.
    assert.match(frame[0]!, /^status +site +code +last +uptime +p95 +pattern +error +age$/);
    assert.ok(frame.indexOf(row("API")) < frame.indexOf(row("Shop")), "down sorts first");
    assert.match(row("API"), /^✖ down +API +503 +12ms +0\.0% +12ms +unexpected_status +5s$/);
    assert.match(row("Shop"), /^✔ up +Shop +200 +240ms +100\.0% +240ms +10s$/);
    // Checked every 5 s, silent for 45 s: stale.
    assert.match(row("Blog"), /^\? stale +Blog/);
    assert.match(frame.at(-1)!, /broker b:9092 · topic checks · 3 sites · 2\.5 msg\/s · lag 7/);
  } finally {
    app.unmount();
    app.cleanup();
  }
});

Deno.test("WatchApp filters with /, sorts with s, and opens a site's checks with Enter", async () => {
  const source = pushSource();
  const app = render(
    <WatchApp source={source} windowMs={900_000} broker="b" topic="t" now={() => NOW} />,
  );
  try {
    source.push({ type: "results", results });
    await tick();
    for (const key of ["/", "s", "h", "\r"]) {
      app.stdin.write(key);
      await tick();
    }
    const filtered = lines(app.lastFrame());
    assert.ok(filtered.some((l) => l.includes("Shop")));
    assert.ok(!filtered.some((l) => l.includes("API") || l.includes("Blog")));
    assert.match(app.lastFrame()!, /filter: sh/);

    app.stdin.write("\u001B"); // Esc clears the filter
    await tick();
    app.stdin.write("s"); // sort by name
    await tick();
    const names = lines(app.lastFrame()).filter((l) => /^(✔|✖|\?|▲)/.test(l)).map((l) =>
      l.split(/ +/)[2]
    );
    assert.deepEqual(names, ["API", "Blog", "Shop"]);
    assert.match(app.lastFrame()!, /s sort: name/);

    app.stdin.write("\u001B[B"); // ↓ selects the first row
    await tick();
    app.stdin.write("\r");
    await tick();
    const detail = app.lastFrame()!;
    assert.match(detail, /✖ down API \(api\)/);
    assert.match(detail, /10:00:55 +✖ 503 +12ms +unexpected_status: Status 503/);
  } finally {
    app.unmount();
    app.cleanup();
  }
});

Deno.test("WatchView drops columns as the terminal narrows, keeping status, site, last and age", () => {
  const state = reduce(initialState(900_000), { type: "results", results });
  const header = (width: number) => {
    const view = render(
      <WatchView
        state={state}
        rows={rowsOf(state, NOW)}
        nowMs={NOW}
        width={width}
        height={12}
        broker="b"
        topic="t"
      />,
    );
    const first = lines(view.lastFrame())[0]!.trim().split(/ +/);
    view.unmount();
    view.cleanup();
    return first;
  };
  assert.deepEqual(header(120), [
    "status",
    "site",
    "code",
    "last",
    "uptime",
    "p95",
    "recent",
    "pattern",
    "error",
    "age",
  ]);
  assert.deepEqual(header(80), ["status", "site", "code", "last", "uptime", "p95", "error", "age"]);
  assert.deepEqual(header(40), ["status", "site", "code", "last", "age"]);
});

Deno.test("WatchView keeps the columns aligned beside names of wide characters", () => {
  const named = (siteName: string, statusCode: number) =>
    makeResult({ siteId: `id-${statusCode}`, siteName, statusCode, checkedAt: ago(10) });
  const state = reduce(initialState(900_000), {
    type: "results",
    results: [
      named("Shop", 200),
      named("東京サイト", 201),
      named("🚀 launch", 202),
      named("⚡ fast 👩‍💻 dev", 203), // each emoji 2 columns, 1 and 5 code units
      named(`a${"東京サイト".repeat(4)}`, 204), // 41 columns: cut, a wide character short
    ],
  });
  const view = render(
    <WatchView
      state={state}
      rows={rowsOf(state, NOW)}
      nowMs={NOW}
      width={100}
      height={12}
      broker="b"
      topic="t"
    />,
  );
  try {
    const frame = lines(stripVTControlCharacters(view.lastFrame()!));
    /** The display column just after `text` on the line that contains it. */
    const columnAfter = (text: string) => {
      const line = frame.find((l) => l.includes(text));
      assert.ok(line !== undefined, `no line shows ${JSON.stringify(text)}`);
      return stringWidth(line.slice(0, line.indexOf(text) + text.length));
    };
    const codeEnds = columnAfter("code"); // right-aligned: every status code ends there
    for (const code of [200, 201, 202, 203, 204]) {
      assert.equal(columnAfter(` ${code} `) - 1, codeEnds, `the row of status ${code}`);
    }
    // The age, right-aligned, ends every line at the same column.
    const rows = frame.filter((l) => l.startsWith("✔ up"));
    assert.equal(rows.length, 5);
    assert.deepEqual(rows.map((l) => stringWidth(l)), rows.map(() => stringWidth(frame[0]!)));
    assert.ok(rows.some((l) => l.includes(`a${"東京サイト".repeat(2)}東京サ… `)));
  } finally {
    view.unmount();
    view.cleanup();
  }
});

Deno.test("WatchView lists two checks made in the same millisecond, each once", () => {
  const checkedAt = ago(5);
  const state = reduce(initialState(900_000), {
    type: "results",
    results: [
      makeResult({ siteId: "shop", siteName: "Shop", checkedAt, responseTimeMs: 111 }),
      makeResult({ siteId: "shop", siteName: "Shop", checkedAt, responseTimeMs: 222 }),
    ],
  });
  const detail = { ...state, selected: "shop", detail: true };
  const errors: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const view = render(
      <WatchView
        state={detail}
        rows={rowsOf(detail, NOW)}
        nowMs={NOW}
        width={100}
        height={12}
        broker="b"
        topic="t"
      />,
    );
    const frame = view.lastFrame()!;
    view.unmount();
    view.cleanup();
    assert.equal(frame.match(/10:00:55 +✔ 200 +111ms/g)?.length, 1);
    assert.equal(frame.match(/10:00:55 +✔ 200 +222ms/g)?.length, 1);
  } finally {
    console.error = consoleError;
  }
  assert.deepEqual(errors, [], "React reported no duplicate keys");
});

Deno.test("WatchView shows a broker it cannot reach, and the retry", () => {
  let state = initialState(900_000);
  state = reduce(state, {
    type: "connection",
    connection: { state: "failed", message: 'Topic "t" does not exist yet', retryInMs: 4_000 },
  });
  const view = render(
    <WatchView state={state} rows={[]} nowMs={NOW} width={100} height={10} broker="b" topic="t" />,
  );
  assert.match(view.lastFrame()!, /Topic "t" does not exist yet \(retrying in 4s\)/);
  view.unmount();
  view.cleanup();
});

Deno.test("sparkline() scales between the lowest and highest value and marks failures", () => {
  assert.equal(sparkline([10, 20, null, 80], 10), "▁▂·█");
  assert.equal(sparkline([5, 5], 10), "▄▄");
  assert.equal(sparkline([1, 2, 3, 4, 5], 3), "▁▅█");
});
