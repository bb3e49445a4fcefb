import assert from "node:assert/strict";
import { render } from "ink-testing-library";
import { stripVTControlCharacters } from "node:util";
import stringWidth from "string-width";
import type { CheckResult } from "../../src/check/result.ts";
import { WatchApp, type WatchSource } from "../../src/watch/app.tsx";
import { initialState, reduce, type WatchEvent } from "../../src/watch/state.ts";
import { duration, milliseconds, pad, sparkline } from "../../src/watch/format.ts";
import { WatchView } from "../../src/watch/view.tsx";
import { makeResult, type ResultOverrides } from "../_helpers/results.ts";

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
  const state = reduce(initialState(900_000, { nowMs: NOW }), { type: "results", results });
  const header = (width: number) => {
    const view = render(
      <WatchView
        state={state}
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
  const state = reduce(initialState(900_000, { nowMs: NOW }), {
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
  const state = reduce(initialState(900_000, { nowMs: NOW }), {
    type: "results",
    results: [
      makeResult({ siteId: "shop", siteName: "Shop", checkedAt, responseTimeMs: 111 }),
      makeResult({ siteId: "shop", siteName: "Shop", checkedAt, responseTimeMs: 222 }),
    ],
  });
  const detail = { ...state, selected: "shop@default", detail: true };
  const errors: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const view = render(
      <WatchView
        state={detail}
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
    <WatchView state={state} width={100} height={10} broker="b" topic="t" />,
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

Deno.test("pad() fits a text to its columns, a wide character taking two", () => {
  assert.equal(pad("東京", 6), "東京  ");
  assert.equal(pad("Shop online", 6), "Shop… ");
});

Deno.test("milliseconds() and duration() write times in the few columns they have", () => {
  assert.deepEqual([1.23, 20.3, null].map(milliseconds), ["1.2ms", "20ms", "-"]);
  assert.deepEqual([-1, 90_000, 7_200_000].map(duration), ["0s", "1m", "2h"]);
});

/**
 * The detail pane of the site of `checks` (all of one site), as the terminal receives it, without
 * the footer.
 */
function detailPane(checks: CheckResult[], width = 100): string {
  const state = reduce(initialState(900_000, { nowMs: NOW }), { type: "results", results: checks });
  const open = { ...state, selected: `${checks[0]!.siteId}@${checks[0]!.region}`, detail: true };
  const view = render(
    <WatchView
      state={open}
      width={width}
      height={16}
      broker="b"
      topic="t"
    />,
  );
  try {
    return lines(view.lastFrame()).slice(0, -2).join("\n");
  } finally {
    view.unmount();
    view.cleanup();
  }
}

/** A check of https://a.example/ that went through every phase. */
const httpsCheck = (overrides: ResultOverrides = {}) =>
  makeResult({
    siteId: "shop",
    siteName: "Shop",
    checkedAt: ago(10),
    dnsMs: 1.2,
    connectMs: 0.4,
    tlsMs: 5.1,
    firstByteMs: 20.3,
    transferMs: 0.8,
    remoteAddress: "203.0.113.7",
    httpVersion: "1.1",
    tlsVersion: "TLSv1.3",
    certSubject: "CN=a.example",
    certIssuer: "CN=Test CA",
    certAltNames: ["", "www.", "shop.", "api.", "cdn.", "img.", "old."].map((n) =>
      `DNS:${n}a.example`
    ),
    certExpiresAt: "2027-03-01T00:00:00.000Z",
    ...overrides,
  });

Deno.test("the detail pane shows each phase, the address and the certificate of an HTTPS check", () => {
  const frame = lines(stripVTControlCharacters(detailPane([httpsCheck()])));
  assert.equal(frame[2], "region default · checker test-host:1");
  assert.deepEqual(frame.slice(3, 7), [
    "dns 1.2ms · connect 0.4ms · tls 5.1ms · first byte 20ms · transfer 0.8ms",
    "HTTP/1.1 from 203.0.113.7",
    "TLSv1.3 · CN=a.example issued by CN=Test CA · expires 2027-03-01 (in 95d)",
    "alt names DNS:a.example, DNS:www.a.example, DNS:shop.a.example, DNS:api.a.example +3 more",
  ]);
  assert.match(frame[7]!, /^10:00:50 +✔ 200 +20ms/, "then the checks");

  // Long names are cut to the width, not the expiry after them nor the count of the others.
  const narrow = lines(stripVTControlCharacters(detailPane([
    httpsCheck({
      certSubject: `CN=${"very-long-name.".repeat(20)}a.example, O=Shop`,
      certAltNames: [`DNS:${"x".repeat(200)}.a.example`, "DNS:b.a.example"],
    }),
  ], 80)));
  assert.ok(
    narrow.includes(
      "TLSv1.3 · CN=very-long-name.… issued by CN=Test CA · expires 2027-03-01 (in 95d)",
    ),
  );
  const names = narrow.find((l) => l.startsWith("alt names"))!;
  assert.match(names, /^alt names DNS:x+… \+1 more$/);
  for (const line of narrow) assert.ok(stringWidth(line) <= 80, `too wide: ${line}`);
});

Deno.test("the detail pane leaves out what a check did not record, never showing it as zero", () => {
  const bogus = /(?<![\d.])0(\.0)?ms|null|undefined|NaN|-ms/;
  // An http check that recorded nothing of its connection: no connection lines at all.
  const none = lines(stripVTControlCharacters(detailPane([
    makeResult({ siteId: "old", siteName: "Old", url: "http://old.example/", checkedAt: ago(10) }),
  ])));
  assert.match(
    none[3]!,
    /^10:00:50 +✔ 200 +20ms/,
    "the checks follow the figures and origin at once",
  );
  assert.doesNotMatch(none.join("\n"), /dns|connect|tls|TLS|HTTP\/|expires|alt names/);

  // http to an IP address: no name to resolve, no TLS.
  const http = stripVTControlCharacters(detailPane([
    httpsCheck({
      url: "http://[2001:db8::1]/",
      dnsMs: null,
      tlsMs: null,
      remoteAddress: "2001:db8::1",
      ...{ tlsVersion: null, certSubject: null, certIssuer: null, certAltNames: null },
      certExpiresAt: null,
    }),
  ]));
  assert.match(
    http,
    /\nconnect 0\.4ms · first byte 20ms · transfer 0\.8ms\nHTTP\/1\.1 from 2001:db8::1\n/,
  );
  assert.doesNotMatch(http, /dns|tls|TLS|expires|alt names/);
  assert.doesNotMatch(http, bogus);

  // Connected, then timed out in the TLS handshake: only what happened before.
  const failed = stripVTControlCharacters(detailPane([
    httpsCheck({
      up: false,
      error: { kind: "timeout", message: "No complete response within the timeout" },
      statusCode: null,
      timeToHeadersMs: null,
      responseTimeMs: null,
      dnsMs: 3,
      connectMs: 1,
      ...{ tlsMs: null, firstByteMs: null, transferMs: null, httpVersion: null },
      remoteAddress: "203.0.113.9",
      ...{ tlsVersion: null, certSubject: null, certIssuer: null, certAltNames: null },
      certExpiresAt: null,
    }),
  ]));
  assert.match(failed, /\ndns 3\.0ms · connect 1\.0ms\nconnected to 203\.0\.113\.9\n/);
  assert.doesNotMatch(failed, /tls|TLS|first byte|transfer|HTTP\/|expires|alt names/);
  assert.doesNotMatch(failed, bogus);
});

// deno-lint-ignore no-control-regex -- matching escape sequences is the point
const INK_COLOUR = /\u001b\[\d*(;\d+)*m/g;
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

Deno.test("the detail pane shows a hostile certificate's escape sequences as text, not acting on them", () => {
  const raw = detailPane([
    httpsCheck({
      tlsVersion: "TLSv1.3\u001b[5m",
      certSubject: "CN=evil\u001b]0;pwned\u0007\u001b[2J",
      certIssuer: "CN=\u009b31mCA",
      certAltNames: ["DNS:a\u001b[1A.example", "DNS:\r\nforged line\u007f"],
      remoteAddress: "203.0.113.7\u001b[H", // the schema refuses it; the watch shows it harmless anyway
    }),
  ]);
  // The only escape sequences left are ink's own colours; no other control character remains.
  assert.doesNotMatch(raw.replace(INK_COLOUR, ""), CONTROL_BUT_NEWLINE);
  const frame = lines(stripVTControlCharacters(raw));
  assert.ok(
    frame.includes(
      "TLSv1.3\uFFFD[5m · CN=evil\uFFFD]0;pwned\uFFFD\uFFFD[2J issued by CN=\uFFFD31mCA · expires 2027-03-01 (in 95d)",
    ),
  );
  assert.ok(frame.includes("alt names DNS:a\uFFFD[1A.example, DNS:\uFFFD\uFFFDforged line\uFFFD"));
  assert.ok(frame.includes("HTTP/1.1 from 203.0.113.7\uFFFD[H"));
});

/** `results` as checked from `region`. */
const from = (region: string, checks: CheckResult[]) =>
  checks.map((result) => ({ ...result, region, checker: `${region}-7:4242` }));

/** The screen of `state`, without colours. */
function screen(state: ReturnType<typeof initialState>, width = 100, height = 12): string[] {
  const view = render(
    <WatchView state={state} width={width} height={height} broker="b" topic="t" />,
  );
  try {
    return lines(stripVTControlCharacters(view.lastFrame()!));
  } finally {
    view.unmount();
    view.cleanup();
  }
}

const regional = [
  ...from("eu", results.slice(0, 3)), // shop up, api down
  ...from("us", [
    makeResult({ siteId: "shop", siteName: "Shop", checkedAt: ago(8), responseTimeMs: 900 }),
    makeResult({ siteId: "api", siteName: "API", checkedAt: ago(6), responseTimeMs: 40 }),
  ]),
];

Deno.test("WatchView shows a site checked from several regions as a row per region, in a region column", () => {
  const state = reduce(initialState(900_000, { nowMs: NOW }), {
    type: "results",
    results: regional,
  });
  for (const width of [120, 100, 80]) {
    const frame = screen(state, width);
    assert.match(frame[0]!, /^status +site +region +code +last +/, `${width} columns`);
    assert.match(frame[1]!, /^✖ down +API +eu +503 +12ms /);
    assert.match(frame[2]!, /^✔ up +API +us +200 +40ms /);
    assert.match(frame[3]!, /^✔ up +Shop +eu +200 +240ms /);
    assert.match(frame[4]!, /^✔ up +Shop +us +200 +900ms /);
    assert.match(frame.at(-1)!, /topic t · 4 rows · 2 sites · 2 regions · /);
  }
  // One region: no column to say it, and a row is a site.
  const single = screen(
    reduce(initialState(900_000, { nowMs: NOW }), { type: "results", results }),
  );
  assert.doesNotMatch(single[0]!, /region/);
  assert.match(single.at(-1)!, /topic t · 3 sites · /);
});

Deno.test("the detail pane names the region and the checker, and how the site stands in the other regions", () => {
  let state = reduce(initialState(900_000, { nowMs: NOW }), { type: "results", results: regional });
  state = { ...state, selected: "api@us", detail: true };
  const frame = screen(state, 100, 16);
  assert.match(frame[0]!, /^✔ up API \(api\) — https:\/\/a\.example\/$/);
  assert.equal(frame[2], "region us · checker us-7:4242 · also eu ✖ down");
});

Deno.test("WatchApp with regions shows only the results of those regions", async () => {
  const source = pushSource();
  const app = render(
    <WatchApp
      source={source}
      windowMs={900_000}
      broker="b"
      topic="t"
      regions={["us"]}
      now={() => NOW}
    />,
  );
  try {
    assert.match(app.lastFrame()!, /Waiting for check results from region us on the topic…/);
    source.push({ type: "results", results: regional });
    await tick();
    const frame = lines(app.lastFrame());
    assert.match(frame[1]!, /^✔ up +API +200 +40ms /, "one region left: no region column");
    assert.match(frame[2]!, /^✔ up +Shop +200 +900ms /);
    assert.equal(frame.filter((l) => /^(✔|✖|\?|▲)/.test(l)).length, 2);
  } finally {
    app.unmount();
    app.cleanup();
  }
});

Deno.test("WatchView of 10 000 sites × 3 regions renders the rows on screen and no others", () => {
  const name = (i: number) => `Site ${String(i).padStart(5, "0")}`;
  const checks = Array.from(
    { length: 10_000 },
    (_, i) => makeResult({ siteId: `s${i}`, siteName: name(i), checkedAt: ago(5) }),
  );
  let state = reduce(initialState(900_000, { nowMs: NOW }), {
    type: "results",
    results: ["eu", "us", "ap"].flatMap((region) => from(region, checks)),
  });
  const rowsOn = (frame: string[]) => frame.filter((l) => l.startsWith("✔ up"));
  const top = screen(state, 100, 30);
  assert.equal(top.length, 30, "the screen's height, not the table's");
  assert.equal(rowsOn(top).length, 27);
  assert.match(rowsOn(top)[0]!, /^✔ up +Site 00000 +ap /);
  assert.match(rowsOn(top).at(-1)!, /^✔ up +Site 00008 +us /);
  assert.ok(!top.some((l) => l.includes("Site 00009") || l.includes("Site 09999")));
  assert.match(top.at(-1)!, /30000 rows · 10000 sites · 3 regions/);

  state = reduce(state, { type: "key", input: "", key: { end: true }, page: 27 });
  const bottom = screen(state, 100, 30);
  assert.equal(rowsOn(bottom).length, 27);
  assert.match(rowsOn(bottom)[0]!, /^✔ up +Site 09991 +ap /);
  assert.match(rowsOn(bottom).at(-1)!, /^✔ up +Site 09999 +us /, "the selection, at the bottom");
  assert.ok(!bottom.some((l) => l.includes("Site 09990") || l.includes("Site 00000")));
});

Deno.test("WatchView shows the alerter's open incidents above the footer, and gives up a row of the table for them", () => {
  let state = reduce(initialState(900_000, { nowMs: NOW }), { type: "results", results });
  const height = 8;
  const before = render(
    <WatchView state={state} width={120} height={height} broker="b" topic="t" />,
  );
  const tableLines = lines(before.lastFrame()).length;
  before.unmount();
  before.cleanup();
  state = reduce(state, {
    type: "incidents",
    incidents: [
      { siteName: "API", kind: "down", regions: ["eu", "us"], openedAtMs: NOW - 300_000 },
      { siteName: "Blog\u001b[2J", kind: "degraded", regions: [], openedAtMs: NOW - 60_000 },
    ],
  });
  const view = render(<WatchView state={state} width={120} height={height} broker="b" topic="t" />);
  const frame = view.lastFrame()!;
  assert.match(frame, /2 open incidents: API down 5m \(eu, us\) · Blog\uFFFD\[2J degraded 1m/);
  assert.equal(lines(frame).length, tableLines, "the screen keeps its height");
  view.unmount();
  view.cleanup();
});
