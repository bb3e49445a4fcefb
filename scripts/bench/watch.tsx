/**
 * Benchmark: can `monitor watch` keep up with 1 000 sites and 1 000 messages a second?
 *
 *   deno task bench:watch [--sites 1000] [--rate 1000] [--frames 100]
 *
 * Times what one frame costs at the most ten frames a second the view draws: applying 100 ms of
 * results (`rate / 10`), deriving the rows and rendering the screen (120 × 40) to a string. The
 * same run with 10 sites is the baseline; figures are per frame and as a share of the 100 ms a
 * frame may take.
 *
 * @module
 */
import { renderToString } from "ink";
import { parseArgs } from "node:util";
import type { CheckResult } from "../../src/check/result.ts";
import { initialState, reduce, rowsOf, type WatchState } from "../../src/watch/state.ts";
import { WatchView } from "../../src/watch/view.tsx";
import { makeResult } from "../../tests/_helpers/results.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sites: { type: "string", default: "1000" },
    rate: { type: "string", default: "1000" },
    frames: { type: "string", default: "100" },
  },
});

function result(site: number, atMs: number): CheckResult {
  const up = (site + atMs) % 17 !== 0;
  return makeResult({
    siteId: `site-${site}`,
    siteName: `Site number ${site}`,
    url: `https://site-${site}.example/`,
    checkedAt: new Date(atMs).toISOString(),
    timeToHeadersMs: 20,
    responseTimeMs: up ? 20 + (atMs / 1000 + site) % 300 : null,
    statusCode: up ? 200 : null,
    up,
    error: up ? null : { kind: "timeout", message: "No complete response within the timeout" },
  });
}

/** Milliseconds per frame with `sites` sites, each already holding a full history. */
function measure(sites: number): number {
  const perFrame = Number(values.rate) / 10;
  const frames = Number(values.frames);
  let nowMs = Date.now();
  let state: WatchState = initialState(15 * 60_000);
  const history: CheckResult[] = [];
  for (let i = 0; i < 120; i++) {
    for (let s = 0; s < sites; s++) history.push(result(s, nowMs - (120 - i) * 10_000));
  }
  state = reduce(state, { type: "results", results: history });
  let next = 0;
  const started = performance.now();
  for (let f = 0; f < frames; f++) {
    nowMs += 100;
    const batch = Array.from({ length: perFrame }, () => result(next++ % sites, nowMs));
    state = reduce(state, { type: "results", results: batch });
    const rows = rowsOf(state, nowMs);
    renderToString(
      <WatchView
        state={state}
        rows={rows}
        nowMs={nowMs}
        width={120}
        height={40}
        broker="b"
        topic="t"
      />,
      { columns: 120 },
    );
  }
  return (performance.now() - started) / frames;
}

measure(10); // warm up
const baseline = measure(10);
const heavy = measure(Number(values.sites));
console.log(`frame with 10 sites:            ${baseline.toFixed(2)} ms`);
console.log(
  `frame with ${values.sites} sites, ${values.rate} msg/s: ${heavy.toFixed(2)} ms (${
    (heavy / baseline).toFixed(1)
  }× the 10-site frame, ${(heavy / 100 * 100).toFixed(0)}% of the 100 ms a frame may take)`,
);
