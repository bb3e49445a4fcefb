import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { checkSite } from "../../src/check/check_site.ts";
import type { SiteConfig } from "../../src/config/sites.ts";
import {
  type Clock,
  runOnce,
  type Scheduler,
  startScheduler,
} from "../../src/schedule/scheduler.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import { siteFor } from "../_helpers/sites.ts";

function sites(count: number, interval = "60s"): SiteConfig[] {
  return Array.from({ length: count }, (_, i) => ({
    ...siteFor(`http://127.0.0.1/${i}`, { interval }),
    id: `site-${i}`,
    name: `site-${i}`,
  }));
}

function schedulerClock(fake: FakeTimers.Clock): Clock {
  return {
    now: () => fake.now,
    setTimeout: (callback, ms) => fake.setTimeout(callback, ms),
    clearTimeout: (id) => fake.clearTimeout(id as FakeTimers.TimerId),
  };
}

/** Stops the scheduler, letting fake time run so the checks in progress can finish. */
async function stop(scheduler: Scheduler<SiteConfig>, clock: FakeTimers.Clock): Promise<void> {
  const stopped = scheduler.stop();
  await clock.runAllAsync();
  await stopped;
}

/** A run() that records when each check started and lasts `durationMs` of fake time. */
function recorder(clock: FakeTimers.Clock, durationMs = 0) {
  const starts: [string, number][] = [];
  let running = 0;
  let maxRunning = 0;
  const runningBySite = new Map<string, number>();
  async function run(site: SiteConfig) {
    starts.push([site.id, clock.now]);
    running++;
    maxRunning = Math.max(maxRunning, running);
    runningBySite.set(site.id, (runningBySite.get(site.id) ?? 0) + 1);
    assert.equal(runningBySite.get(site.id), 1, `two checks of ${site.id} at once`);
    await new Promise((resolve) => clock.setTimeout(resolve, durationMs));
    runningBySite.set(site.id, runningBySite.get(site.id)! - 1);
    running--;
  }
  return { run, starts, maxRunning: () => maxRunning };
}

Deno.test("startScheduler() spreads first runs over the interval", async () => {
  const clock = FakeTimers.createClock(0);
  const { run, starts } = recorder(clock);
  const scheduler = startScheduler(sites(3), run, {
    concurrency: 10,
    clock: schedulerClock(clock),
  });
  await clock.tickAsync(59_999);
  await stop(scheduler, clock);
  assert.deepEqual(starts, [["site-0", 0], ["site-1", 20_000], ["site-2", 40_000]]);
});

Deno.test("startScheduler() plans each run from the previous plan, so slow checks cause no drift", async () => {
  const clock = FakeTimers.createClock(0);
  const { run, starts } = recorder(clock, 7_000);
  const scheduler = startScheduler(sites(1, "10s"), run, {
    concurrency: 10,
    clock: schedulerClock(clock),
  });
  await clock.tickAsync(45_000);
  await stop(scheduler, clock);
  assert.deepEqual(starts.map(([, at]) => at), [0, 10_000, 20_000, 30_000, 40_000]);
});

Deno.test("startScheduler() never runs more checks at once than the concurrency limit", async () => {
  const clock = FakeTimers.createClock(0);
  const { run, starts, maxRunning } = recorder(clock, 5_000);
  const many = sites(10, "10s");
  const scheduler = startScheduler(many, run, { concurrency: 2, clock: schedulerClock(clock) });
  await clock.tickAsync(10_000);
  assert.equal(maxRunning(), 2);
  // Due at 0, 1, …, 9 s; two at a time for 5 s each, the rest wait their turn.
  assert.deepEqual(starts.map(([, at]) => at), [0, 1_000, 5_000, 6_000, 10_000]);
  // Waiting at 10 s: sites 5 to 9, and site 0 again (due at 10 s).
  assert.equal(scheduler.stats().queued, 6);
  await stop(scheduler, clock);
});

Deno.test("startScheduler() tells how long after its plan each check starts", async () => {
  const clock = FakeTimers.createClock(0);
  const { run } = recorder(clock, 5_000);
  const lags: [string, number][] = [];
  const scheduler = startScheduler(sites(4, "8s"), run, {
    concurrency: 1,
    clock: schedulerClock(clock),
    onStart: (site, lagMs) => lags.push([site.id, lagMs]),
  });
  await clock.tickAsync(10_000);
  // Due at 0, 2, 4 s; one at a time for 5 s each: site 1 starts at 5 s, site 2 at 10 s.
  assert.deepEqual(lags, [["site-0", 0], ["site-1", 3_000], ["site-2", 6_000]]);
  await stop(scheduler, clock);
});

Deno.test("startScheduler() skips and counts a run while the site's last check still runs", async () => {
  const clock = FakeTimers.createClock(0);
  const { run, starts } = recorder(clock, 25_000);
  const skipped: string[] = [];
  const scheduler = startScheduler(sites(1, "10s"), run, {
    concurrency: 10,
    clock: schedulerClock(clock),
    onSkip: (site, reason) => skipped.push(`${site.id}:${reason}`),
  });
  await clock.tickAsync(35_000);
  await stop(scheduler, clock);
  // Runs due at 0, 10, 20, 30 s: the one at 0 lasts until 25 s, so 10 and 20 are skipped.
  assert.deepEqual(starts.map(([, at]) => at), [0, 30_000]);
  assert.deepEqual(skipped, ["site-0:busy", "site-0:busy"]);
  assert.equal(scheduler.stats().skipped, 2);
});

Deno.test("startScheduler() keeps a slow site from delaying another", async () => {
  const clock = FakeTimers.createClock(0);
  const starts: [string, number][] = [];
  const run = async (site: SiteConfig) => {
    starts.push([site.id, clock.now]);
    const ms = site.id === "site-0" ? 50_000 : 10;
    await new Promise((resolve) => clock.setTimeout(resolve, ms));
  };
  const scheduler = startScheduler(sites(2, "20s"), run, {
    concurrency: 10,
    clock: schedulerClock(clock),
  });
  await clock.tickAsync(55_000);
  await stop(scheduler, clock);
  const fast = starts.filter(([id]) => id === "site-1").map(([, at]) => at);
  assert.deepEqual(fast, [10_000, 30_000, 50_000]);
});

Deno.test("stop() waits for running checks and starts no more", async () => {
  const clock = FakeTimers.createClock(0);
  const { run, starts } = recorder(clock, 3_000);
  const scheduler = startScheduler(sites(1, "10s"), run, {
    concurrency: 10,
    clock: schedulerClock(clock),
  });
  await clock.tickAsync(1_000);
  let stopped = false;
  const stopping = scheduler.stop().then(() => stopped = true);
  await clock.tickAsync(1_000);
  assert.equal(stopped, false);
  await clock.tickAsync(1_000);
  await stopping;
  await clock.tickAsync(60_000);
  assert.equal(starts.length, 1);
  assert.deepEqual(scheduler.stats(), {
    started: 1,
    completed: 1,
    skipped: 0,
    running: 0,
    queued: 0,
  });
});

Deno.test("update() stops removed sites, starts new ones and keeps the plan of the others", async () => {
  const clock = FakeTimers.createClock(0);
  const { run, starts } = recorder(clock);
  const [a, b, c] = sites(3, "30s");
  const scheduler = startScheduler([a!, b!], run, {
    concurrency: 10,
    clock: schedulerClock(clock),
  });
  await clock.tickAsync(20_000); // a at 0, b at 15 s
  scheduler.update([{ ...b!, name: "B renamed" }, c!]);
  await clock.tickAsync(40_000);
  await stop(scheduler, clock);
  assert.deepEqual(starts, [
    ["site-0", 0],
    ["site-1", 15_000],
    ["site-2", 20_000], // new: first of one, so at once
    ["site-1", 45_000], // kept: still on its plan
    ["site-2", 50_000],
  ]);
});

Deno.test("update() spreads the first checks of new sites over half their interval", async () => {
  const clock = FakeTimers.createClock(0);
  const { run, starts } = recorder(clock);
  const [a, b, c, d] = sites(4, "40s");
  const scheduler = startScheduler([a!], run, { concurrency: 10, clock: schedulerClock(clock) });
  await clock.tickAsync(1_000);
  scheduler.update([a!, b!, c!, d!]);
  await clock.tickAsync(20_000);
  await stop(scheduler, clock);
  assert.deepEqual(starts, [
    ["site-0", 0],
    ["site-1", 1_000],
    ["site-2", 7_666], // 1/3 of half of 40 s after the update
    ["site-3", 14_333],
  ]);
});

Deno.test("update() gives a kept site its new settings from its next check", async () => {
  const clock = FakeTimers.createClock(0);
  const names: string[] = [];
  const run = (site: SiteConfig) => {
    names.push(`${site.name}@${clock.now}`);
    return Promise.resolve();
  };
  const [a] = sites(1, "30s");
  const scheduler = startScheduler([a!], run, { concurrency: 10, clock: schedulerClock(clock) });
  await clock.tickAsync(1_000);
  scheduler.update([{ ...a!, name: "faster", intervalMs: 10_000 }]);
  await clock.tickAsync(30_000);
  await stop(scheduler, clock);
  // The shorter interval brings the next check forward to 11 s, then every 10 s.
  assert.deepEqual(names, ["site-0@0", "faster@11000", "faster@21000", "faster@31000"]);
});

/** A run() that lasts `durationMs` of fake time unless its signal is aborted first. */
function abortable(clock: FakeTimers.Clock, durationMs: number) {
  const aborted: [string, number][] = [];
  function run(site: SiteConfig, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, durationMs);
      function onAbort() {
        clock.clearTimeout(timer);
        aborted.push([site.id, clock.now]);
        reject(signal.reason);
      }
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
  return { run, aborted };
}

/** Collects what `reportError` reports while `fn` runs, instead of failing the test with it. */
async function reported(fn: () => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    errors.push(event.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    await fn();
  } finally {
    globalThis.removeEventListener("error", onError);
  }
  return errors;
}

Deno.test("stop() aborts the checks still running when the grace runs out, and resolves then", async () => {
  const clock = FakeTimers.createClock(0);
  const { run, aborted } = abortable(clock, 60_000);
  const scheduler = startScheduler(sites(2, "10m"), run, {
    concurrency: 10,
    clock: schedulerClock(clock),
  });
  const errors = await reported(async () => {
    await clock.tickAsync(300_000); // site-0 started at 0, site-1 at 300 s: both hang
    let stopped = false;
    const stopping = scheduler.stop({ graceMs: 2_000 }).then(() => stopped = true);
    await clock.tickAsync(1_999);
    assert.deepEqual(aborted, []);
    assert.equal(stopped, false);
    await clock.tickAsync(1);
    await stopping;
  });
  // site-0 had finished at 60 s; only site-1 was still running.
  assert.deepEqual(aborted, [["site-1", 302_000]]);
  assert.deepEqual(errors, [], "an abort the scheduler asked for is no bug to report");
  assert.equal(scheduler.stats().running, 0);
  await clock.tickAsync(600_000);
  assert.equal(scheduler.stats().started, 2);
});

Deno.test("stop() lets a check that ends within the grace end on its own", async () => {
  const clock = FakeTimers.createClock(0);
  const { run, aborted } = abortable(clock, 3_000);
  const scheduler = startScheduler(sites(1, "10s"), run, {
    concurrency: 10,
    clock: schedulerClock(clock),
  });
  await clock.tickAsync(1_000);
  const stopping = scheduler.stop({ graceMs: 5_000 });
  await clock.tickAsync(2_000);
  await stopping;
  assert.deepEqual(aborted, []);
  assert.equal(clock.countTimers(), 0, "the grace timer was left running");
});

Deno.test("stop() still reports a check that fails for another reason after the abort", async () => {
  const clock = FakeTimers.createClock(0);
  const bug = new Error("bug");
  const run = (_site: SiteConfig, signal: AbortSignal) =>
    new Promise<void>((_resolve, reject) => signal.addEventListener("abort", () => reject(bug)));
  const scheduler = startScheduler(sites(1), run, { concurrency: 1, clock: schedulerClock(clock) });
  await clock.tickAsync(1);
  const errors = await reported(async () => {
    const stopping = scheduler.stop({ graceMs: 0 });
    await clock.tickAsync(0);
    await stopping;
  });
  assert.deepEqual(errors, [bug]);
});

Deno.test("stop() with a real check in flight on a site that never answers ends within the grace", async () => {
  await using target = startHttpTarget();
  const site = siteFor(target.url("/sleep/60000"), { timeout: "60s", interval: "2m" });
  let outcome = "none";
  const scheduler = startScheduler([site], async (site, signal) => {
    try {
      await checkSite(site, { signal });
      outcome = "result";
    } catch (error) {
      outcome = error === signal.reason ? "aborted" : `other: ${error}`;
    }
  }, { concurrency: 1 });
  while (target.peers!.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const started = performance.now();
  await scheduler.stop({ graceMs: 200 });
  const ms = performance.now() - started;
  assert.equal(outcome, "aborted");
  assert.ok(ms >= 190 && ms < 1_500, `took ${ms} ms to stop`);
});

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
