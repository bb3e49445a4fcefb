/**
 * Benchmark: does `monitor watch` stay live with 10 000 sites checked from three regions and
 * 1 000 messages a second?
 *
 *   deno task bench:watch [--sites 10000] [--regions 3] [--rate 1000] [--frames 300] [--history 120]
 *
 * Fills the state with `history` checks of every site in every region (in batches of one check of
 * each, as a backfill arrives, at the pace of the stream that follows; the results are made here,
 * not read from Kafka), and says how long that took (and how much CPU: on a machine shared with
 * other work the wall time says little) and the memory it left (after a full collection too, when
 * run with `--v8-flags=--expose-gc`, as the task does), then times frames as
 * results stream in, at the most ten frames a second the view draws: applying 100 ms of results
 * (`rate / 10`), a clock tick every tenth frame (the app's once a second), and rendering the screen
 * (120 × 40) to a string, which derives the rows on screen. The large run draws them at that pace,
 * one every 100 ms, idle in between as the app is (V8 gives memory back to the system then), and
 * says what the process holds at the end: what a user's watch holds while following the stream, as
 * against just after the backfill. The task runs React's production build, as `monitor watch` does
 * (`NODE_ENV=production`; React reads it as it loads). Prints each frame's time as p50, p99
 * and max, against the same run with just enough sites to fill the screen as the baseline (so the
 * ratio is what the rows off screen cost) and against the 100 ms a frame may take; then what a new
 * sort (`s`), a filter's keystroke and every row turning stale at once cost (applied and drawn).
 *
 * @module
 */
import { renderToString } from "ink";
import process from "node:process";
import { parseArgs } from "node:util";
import type { CheckResult } from "../../src/check/result.ts";
import { initialState, reduce, type WatchEvent, type WatchState } from "../../src/watch/state.ts";
import { frozenCopy } from "../../src/watch/table.ts";
import { WatchView } from "../../src/watch/view.tsx";
import { makeResult } from "../../tests/_helpers/results.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sites: { type: "string", default: "10000" },
    regions: { type: "string", default: "3" },
    rate: { type: "string", default: "1000" },
    frames: { type: "string", default: "300" },
    history: { type: "string", default: "120" },
  },
});
const siteCount = Number(values.sites);
const regions = Array.from({ length: Number(values.regions) }, (_, i) => `region-${i}`);
const perFrame = Number(values.rate) / 10;
const frames = Number(values.frames);
const historyChecks = Number(values.history);

const BASE = makeResult();
const TIMEOUT = { kind: "timeout", message: "No complete response within the timeout" } as const;
let made = 0;

/**
 * The `i`-th row's result at `atMs` (rows go site by site, each in every region), its text made
 * anew as decoding a message makes it.
 */
function resultOfRow(i: number, atMs: number): CheckResult {
  const [site, region] = [Math.floor(i / regions.length), i % regions.length];
  const up = (site + region + atMs) % 17 !== 0;
  return {
    ...BASE,
    checkId: `0190d6a8-7b5c-7def-${String(made++).padStart(16, "0")}`,
    siteId: `site-${site}`,
    siteName: `Site number ${site}`,
    url: `https://site-${site}.example/`,
    region: regions[region]!,
    checker: `checker-${region}:${1000 + region}`,
    checkedAt: new Date(atMs).toISOString(),
    timeToHeadersMs: 20,
    responseTimeMs: up ? 20 + (atMs / 1000 + site) % 300 : null,
    statusCode: up ? 200 : null,
    up,
    error: up ? null : TIMEOUT,
  } as CheckResult;
}

/** `count` results from row `first` on, made as they are read (as the source decodes them). */
function* resultsOf(first: number, count: number, rows: number, atMs: number) {
  for (let i = first; i < first + count; i++) yield resultOfRow(i % rows, atMs);
}

function draw(state: WatchState): string {
  return renderToString(
    <WatchView state={state} width={120} height={40} broker="b" topic="t" />,
    { columns: 120 },
  );
}

interface Run {
  /** Each frame: results applied, a tick every tenth, the screen rendered. */
  readonly frameMs: number[];
  /** Of which applying the results and the tick. */
  readonly applyMs: number[];
  readonly backfillMs: number;
  /** CPU time of the backfill: on a machine shared with other work, wall time says little. */
  readonly backfillCpuMs: number;
  /** Of which making the results. */
  readonly makingMs: number;
  readonly makingCpuMs: number;
  readonly memory: Deno.MemoryUsage;
  /** After a full garbage collection, when the benchmark may ask for one (`--expose-gc`). */
  readonly collected: Deno.MemoryUsage | null;
  readonly state: WatchState;
  /** At the end of the frames, when they were drawn at the app's pace. */
  readonly live: Deno.MemoryUsage;
}

/**
 * Fills the state and times the frames; `paced`, a frame every 100 ms as the app draws them, with
 * the time between to itself as the app has it (V8 gives back memory when the process idles).
 */
async function measure(sites: number, paced: boolean): Promise<Run> {
  const rows = sites * regions.length;
  let nowMs = Date.now();
  let state = initialState(15 * 60_000, { nowMs });
  // At the pace the results then stream in: each row every `rows / rate` seconds (30 s for 30 000
  // rows at 1 000 a second), so that rows turn stale only where the figures below say so.
  const spacingMs = rows / Number(values.rate) * 1000;
  let backfillMs = 0;
  let backfillCpuMs = 0;
  let makingCpuMs = 0;
  let makingMs = 0;
  for (let i = 0; i < historyChecks; i++) {
    const atMs = nowMs - (historyChecks - i) * spacingMs;
    // What making the results alone costs, to tell apart from applying them.
    let cpu = process.cpuUsage();
    const makingStarted = performance.now();
    for (const _ of resultsOf(0, rows, rows, atMs));
    makingMs += performance.now() - makingStarted;
    const making = process.cpuUsage(cpu);
    makingCpuMs += (making.user + making.system) / 1000;
    const started = performance.now();
    cpu = process.cpuUsage();
    state = reduce(state, { type: "results", results: resultsOf(0, rows, rows, atMs) });
    backfillMs += performance.now() - started;
    const { user, system } = process.cpuUsage(cpu);
    backfillCpuMs += (user + system) / 1000;
  }
  const memory = Deno.memoryUsage();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const collected = gc === undefined ? null : Deno.memoryUsage();
  let next = 0;
  const frameMs: number[] = [];
  const applyMs: number[] = [];
  for (let f = 0; f < frames; f++) {
    nowMs += 100;
    const started = performance.now();
    state = reduce(state, { type: "results", results: resultsOf(next, perFrame, rows, nowMs) });
    next += perFrame;
    if (f % 10 === 9) state = reduce(state, { type: "tick", nowMs });
    const applied = performance.now();
    draw(state);
    const took = performance.now() - started;
    frameMs.push(took);
    applyMs.push(applied - started);
    if (paced) await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - took)));
  }
  const live = Deno.memoryUsage();
  const making = { makingMs, makingCpuMs };
  return { frameMs, applyMs, backfillMs, backfillCpuMs, ...making, memory, collected, state, live };
}

/** Milliseconds `event` takes to apply and draw, the median of five, each on a copy of the rows. */
function once(state: WatchState, event: WatchEvent): number {
  const times = Array.from({ length: 5 }, () => {
    const copy = { ...state, live: frozenCopy(state.live) };
    const started = performance.now();
    draw(reduce(copy, event));
    return performance.now() - started;
  });
  return percentile(times, 0.5);
}

function percentile(values: readonly number[], q: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

const ms = (n: number) => `${n.toFixed(1)} ms`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const figures = (times: readonly number[]) =>
  `p50 ${ms(percentile(times, 0.5))}, p99 ${ms(percentile(times, 0.99))}, max ${
    ms(Math.max(...times))
  }`;

// The baseline fills the screen (40 lines: a header, 37 rows, two footer lines), so that the ratio
// is what the rows off screen cost.
const baselineSites = Math.ceil(37 / regions.length);
await measure(baselineSites, false); // warm up
const baseline = await measure(baselineSites, false);
const heavy = await measure(siteCount, true);
const ratio = (q: number) =>
  (percentile(heavy.frameMs, q) / percentile(baseline.frameMs, q)).toFixed(1);
const where = `${regions.length} region${regions.length === 1 ? "" : "s"}`;
const { memory, collected } = heavy;
const p99 = percentile(heavy.frameMs, 0.99);
const applyingS = (heavy.backfillCpuMs - heavy.makingCpuMs) / 1000;
console.log(
  `watch: ${siteCount} sites × ${where} (${
    siteCount * regions.length
  } rows), ${historyChecks} checks held each, ${values.rate} msg/s, ${frames} frames, 120 × 40:`,
);
// The figures issue 22 §5 names, with its bounds.
console.log(
  `  rss ${mib(memory.rss)} after the backfill, ${mib(heavy.live.rss)} after ${
    frames / 10
  } s of frames (≤ 400 MiB); backfill applied in ${(heavy.backfillMs / 1000).toFixed(1)} s, ${
    applyingS.toFixed(1)
  } s of CPU without making the results (≤ 10 s); frame p99 ${ms(p99)} (≤ 50 ms)`,
);
console.log(
  `  backfill of ${siteCount * regions.length * historyChecks} checks: ${
    (heavy.backfillCpuMs / 1000).toFixed(1)
  } s of CPU in ${(heavy.backfillMs / 1000).toFixed(1)} s, of which ${
    (heavy.makingCpuMs / 1000).toFixed(1)
  } s making the results (as decoding them would); then heap used ${
    mib(memory.heapUsed)
  } (garbage included), external ${mib(memory.external)}${
    collected === null
      ? ""
      : `; after a full collection rss ${mib(collected.rss)}, heap used ${mib(collected.heapUsed)}`
  }`,
);
console.log(
  `  frame with ${baselineSites} sites × ${where} (a screen full): ${figures(baseline.frameMs)}`,
);
console.log(`  frame with ${siteCount} sites × ${where}: ${figures(heavy.frameMs)}`);
console.log(
  `    = ${ratio(0.5)}× (p50) and ${
    ratio(0.99)
  }× (p99) the screen-full frame; of which applying results and ticks: ${figures(heavy.applyMs)}`,
);
console.log(
  `  after the frames: heap total ${mib(heavy.live.heapTotal)}, external ${
    mib(heavy.live.external)
  }`,
);
const typing = { ...heavy.state, editingFilter: true, filter: "number 1" };
// Every checker silent for an hour: every row turns stale at the same tick, and moves.
const silence = { type: "tick", nowMs: heavy.state.nowMs + 3_600_000 } as const;
const sort = ms(once(heavy.state, { type: "key", input: "s", key: {}, page: 37 }));
const keystroke = ms(once(typing, { type: "key", input: "2", key: {}, page: 37 }));
const stale = ms(once(heavy.state, silence));
console.log(
  `  once: a new sort (s) ${sort}, a filter's keystroke ${keystroke}, every row turning stale at one tick ${stale}`,
);
