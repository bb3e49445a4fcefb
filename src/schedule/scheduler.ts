/**
 * Runs each site's check on its own interval: first runs spread over the interval, later runs
 * planned from the previous plan (no drift), at most `concurrency` at once, never two of one site.
 * Knows nothing of HTTP or Kafka: it calls `run(site, signal)`, and aborts the signal when a stop's
 * grace runs out.
 *
 * @module
 */
/** What the scheduler needs of a site: a unique id and its interval. */
export interface Scheduled {
  readonly id: string;
  readonly intervalMs: number;
}

/** The timer functions the scheduler uses; `@sinonjs/fake-timers` clocks fit. */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** Counters, for logs and tests. */
export interface SchedulerStats {
  /** Checks started. */
  readonly started: number;
  /** Checks finished. */
  readonly completed: number;
  /** Runs not made because the site's previous check was still going, or the process lagged. */
  readonly skipped: number;
  /** Checks in progress now. */
  readonly running: number;
  /** Checks due but waiting for the concurrency limit. */
  readonly queued: number;
}

/** Options of {@link startScheduler}. */
export interface SchedulerOptions<S extends Scheduled> {
  /** Most checks in progress at once. */
  readonly concurrency: number;
  /** Defaults to the real timers with `performance.now()`. */
  readonly clock?: Clock;
  /** Told about each skipped run. */
  readonly onSkip?: (site: S, reason: "busy" | "late") => void;
  /**
   * Told as each check starts, how long after its plan: a process that keeps up starts checks
   * within milliseconds; waiting for the concurrency limit or a busy event loop shows here.
   */
  readonly onStart?: (site: S, lagMs: number) => void;
}

/** Options of {@link Scheduler.stop}. */
export interface StopOptions {
  /**
   * How long checks in progress may go on before their signal is aborted. Without it they are
   * waited for however long they take.
   */
  readonly graceMs?: number;
}

/** A running schedule. */
export interface Scheduler<S extends Scheduled> {
  /** Counters so far. */
  stats(): SchedulerStats;
  /**
   * Replaces the set of sites: removed ones are checked no more (a check in progress finishes),
   * new ones start spread over half their interval, and kept ones (same id) keep their plan, taking
   * the new settings from their next check on; a changed interval applies from the next check.
   * (A new site is wanted soon; one taken over from a checker that stopped was last checked up to
   * an interval ago. Half an interval bounds the burst at twice the steady rate.)
   */
  update(sites: readonly S[]): void;
  /**
   * Starts no more checks (queued ones are dropped) and resolves once the running ones have
   * settled, aborting their signal when `graceMs` has passed. Calling it again returns the same
   * promise.
   */
  stop(options?: StopOptions): Promise<void>;
}

/** Of their interval, the share over which the first checks of sites added by an update spread. */
const ADDED_SPREAD_SHARE = 0.5;

const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

interface SiteState<S extends Scheduled> {
  site: S;
  nextAtMs: number;
  /** When the run now queued or going was due. */
  dueAtMs: number;
  timer: unknown;
  busy: boolean;
}

/**
 * Starts checking `sites` by calling `run` for each due check.
 *
 * @param sites What to check; site i of n first runs at i/n of its interval.
 * @param run One check. It must settle soon after its signal is aborted, and may then reject with
 *   the signal's reason; any other rejection is a bug and is reported with `reportError`.
 * @param options Concurrency limit and clock.
 * @returns A handle to read counters and stop.
 *
 * @example
 * ```ts ignore
 * import { startScheduler } from "./scheduler.ts";
 * const scheduler = startScheduler(
 *   sites,
 *   async (site, signal) => publish(await checkSite(site, { signal })),
 *   { concurrency: 100 },
 * );
 * await scheduler.stop({ graceMs: 5_000 });
 * ```
 */
export function startScheduler<S extends Scheduled>(
  sites: readonly S[],
  run: (site: S, signal: AbortSignal) => Promise<void>,
  options: SchedulerOptions<S>,
): Scheduler<S> {
  const clock = options.clock ?? REAL_CLOCK;
  const queue: SiteState<S>[] = [];
  const counts = { started: 0, completed: 0, skipped: 0, running: 0 };
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let idle: (() => void) | undefined;
  // One signal for every check: only a stop aborts it.
  const checks = new AbortController();

  let states = new Map<string, SiteState<S>>();
  schedule(sites);

  /** Starts `sites` not yet scheduled, site i of n at i/n of `share` of its interval from now. */
  function schedule(sites: readonly S[], share = 1): void {
    const startMs = clock.now();
    sites.forEach((site, index) => {
      const offsetMs = Math.floor((index / sites.length) * share * site.intervalMs);
      const state: SiteState<S> = {
        site,
        nextAtMs: startMs + offsetMs,
        dueAtMs: startMs + offsetMs,
        timer: undefined,
        busy: false,
      };
      state.timer = clock.setTimeout(() => due(state), offsetMs);
      states.set(site.id, state);
    });
  }

  function due(state: SiteState<S>): void {
    if (stopping || states.get(state.site.id) !== state) return;
    if (state.busy) {
      skip(state, "busy");
    } else {
      state.busy = true;
      state.dueAtMs = state.nextAtMs;
      queue.push(state);
      drain();
    }
    const nowMs = clock.now();
    state.nextAtMs += state.site.intervalMs;
    while (state.nextAtMs <= nowMs) {
      state.nextAtMs += state.site.intervalMs;
      skip(state, "late");
    }
    state.timer = clock.setTimeout(() => due(state), state.nextAtMs - nowMs);
  }

  function skip(state: SiteState<S>, reason: "busy" | "late"): void {
    counts.skipped++;
    options.onSkip?.(state.site, reason);
  }

  function drain(): void {
    while (!stopping && counts.running < options.concurrency && queue.length > 0) {
      const state = queue.shift()!;
      counts.started++;
      counts.running++;
      options.onStart?.(state.site, clock.now() - state.dueAtMs);
      run(state.site, checks.signal).catch(reportUnlessAborted).finally(() => {
        counts.running--;
        counts.completed++;
        state.busy = false;
        if (stopping && counts.running === 0) idle?.();
        drain();
      });
    }
  }

  function reportUnlessAborted(error: unknown): void {
    if (!(checks.signal.aborted && error === checks.signal.reason)) reportError(error);
  }

  return {
    stats: () => ({ ...counts, queued: queue.length }),
    update(sites) {
      if (stopping) return;
      const next = new Map<string, SiteState<S>>();
      const added: S[] = [];
      for (const site of sites) {
        const state = states.get(site.id);
        if (state === undefined) {
          added.push(site);
          continue;
        }
        if (site.intervalMs !== state.site.intervalMs) {
          // The next check stays as planned unless the new interval brings it closer.
          const nowMs = clock.now();
          state.nextAtMs = Math.min(state.nextAtMs, nowMs + site.intervalMs);
          clock.clearTimeout(state.timer);
          state.timer = clock.setTimeout(() => due(state), state.nextAtMs - nowMs);
        }
        state.site = site;
        next.set(site.id, state);
      }
      const removed = new Set([...states.values()].filter((state) => !next.has(state.site.id)));
      for (const state of removed) clock.clearTimeout(state.timer);
      queue.splice(0, queue.length, ...queue.filter((state) => !removed.has(state)));
      states = next;
      schedule(added, ADDED_SPREAD_SHARE);
    },
    stop(options = {}) {
      if (stopped !== undefined) return stopped;
      stopping = true;
      for (const state of states.values()) clock.clearTimeout(state.timer);
      queue.length = 0;
      stopped = counts.running === 0 ? Promise.resolve() : new Promise((resolve) => {
        const { graceMs } = options;
        const grace = graceMs === undefined ? undefined : clock.setTimeout(() => {
          checks.abort(
            new DOMException("The scheduler stopped before the check ended", "AbortError"),
          );
        }, graceMs);
        idle = () => {
          if (grace !== undefined) clock.clearTimeout(grace);
          resolve();
        };
      });
      return stopped;
    },
  };
}
