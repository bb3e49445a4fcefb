import assert from "node:assert/strict";
import { runOnce } from "../../src/schedule/run_once.ts";

/** A run that lasts `ms`, or until its signal is aborted. */
function lasting(ms: number, signal: AbortSignal): Promise<"done" | "called off"> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("done"), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve("called off");
    }, { once: true });
  });
}

Deno.test("runOnce() runs every item once, in order, never more at once than the concurrency limit", async () => {
  const started: number[] = [];
  let running = 0;
  let most = 0;
  const items = Array.from({ length: 10 }, (_, i) => i);
  await runOnce(items, async (item, signal) => {
    started.push(item);
    most = Math.max(most, ++running);
    await lasting(5, signal);
    running--;
  }, { concurrency: 3, signal: new AbortController().signal, graceMs: () => 0 });
  assert.deepEqual(started, items);
  assert.equal(most, 3);
});

Deno.test("runOnce() starts no more runs once stopped and calls off those running after the grace", async () => {
  const stop = new AbortController();
  const outcomes: string[] = [];
  let graceAskedAtStop = false;
  const round = runOnce(["a", "b", "c", "d"], async (item, signal) => {
    if (item === "b") stop.abort();
    outcomes.push(`${item}: ${await lasting(item === "a" ? 10 : 60_000, signal)}`);
  }, {
    concurrency: 2,
    signal: stop.signal,
    graceMs: () => {
      graceAskedAtStop = stop.signal.aborted;
      return 50;
    },
  });
  const startedMs = performance.now();
  await round;
  assert.ok(graceAskedAtStop, "the grace is asked for when the signal is aborted");
  assert.deepEqual(outcomes, ["a: done", "b: called off"]);
  assert.ok(performance.now() - startedMs < 5_000, "the run in progress was called off");
});

Deno.test("runOnce() starts nothing when the signal is already aborted", async () => {
  const started: string[] = [];
  await runOnce(["a", "b"], (item) => {
    started.push(item);
    return Promise.resolve();
  }, { concurrency: 2, signal: AbortSignal.abort(), graceMs: () => 0 });
  assert.deepEqual(started, []);
});
