/**
 * Runs each site's check on its own interval (first runs spread, no drift), at most `concurrency`
 * at once, never two of one site; or each once (`monitor produce --once`).
 *
 * @module
 */
type Scheduled = { readonly id: string; readonly intervalMs: number };

/** The timer functions the scheduler uses; `@sinonjs/fake-timers` clocks fit. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

interface SchedulerOptions<S extends Scheduled> {
  readonly concurrency: number;
  readonly clock?: Clock;
  readonly onSkip?: (site: S, reason: "busy" | "late") => void;
  /** Told as each check starts how long after its plan. */
  readonly onStart?: (site: S, lagMs: number) => void;
}

/** A running schedule. */
export type Scheduler<S extends Scheduled> = ReturnType<typeof startScheduler<S>>;

const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

interface SiteState<S extends Scheduled> {
  site: S;
  nextAtMs: number;
  /** When the run queued or going was due. */
  dueAtMs: number;
  timer?: unknown;
  busy: boolean;
}

/**
 * Starts checking `sites` (site i of n first at i/n of its interval) by calling `run` for each due
 * check. `run` must settle soon after its signal is aborted, and may then reject with its reason;
 * any other rejection is a bug, reported with `reportError`.
 */
export function startScheduler<S extends Scheduled>(
  sites: readonly S[],
  run: (site: S, signal: AbortSignal) => Promise<void>,
  options: SchedulerOptions<S>,
) {
  const clock = options.clock ?? REAL_CLOCK;
  const queue: SiteState<S>[] = [];
  const counts = { started: 0, completed: 0, skipped: 0, running: 0 };
  let stopping = false;
  let grace: unknown;
  const idle = Promise.withResolvers<void>();
  const checks = new AbortController();
  let states = new Map<string, SiteState<S>>();
  schedule(sites);

  /** Starts `sites` not yet scheduled, site i of n at i/n of `share` of its interval from now. */
  function schedule(sites: readonly S[], share = 1): void {
    const startMs = clock.now();
    sites.forEach((site, index) => {
      const offsetMs = Math.floor((index / sites.length) * share * site.intervalMs);
      const atMs = startMs + offsetMs;
      const state: SiteState<S> = { site, nextAtMs: atMs, dueAtMs: atMs, busy: false };
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
      run(state.site, checks.signal).catch((error) => {
        if (!(checks.signal.aborted && error === checks.signal.reason)) reportError(error);
      }).finally(() => {
        counts.running--;
        counts.completed++;
        state.busy = false;
        if (stopping && counts.running === 0) {
          clock.clearTimeout(grace);
          idle.resolve();
        }
        drain();
      });
    }
  }

  return {
    /** Counters; `skipped`: the site's previous check was still going, or the process lagged. */
    stats: () => ({ ...counts, queued: queue.length }),
    /**
     * Replaces the sites: removed ones stop, kept ones (same id) keep their plan, new ones are
     * spread over half their interval (one taken over is due; half caps bursts at twice the rate).
     */
    update(sites: readonly S[]): void {
      if (stopping) return;
      const next = new Map<string, SiteState<S>>();
      const added = sites.filter((site) => !states.has(site.id));
      for (const site of sites) {
        const state = states.get(site.id);
        if (state === undefined) continue;
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
      schedule(added, 0.5);
    },
    /**
     * Starts no more checks and resolves once the running ones have settled, aborting their signal
     * after `graceMs` (without it, waiting however long they take). Idempotent.
     */
    stop({ graceMs }: { readonly graceMs?: number } = {}): Promise<void> {
      if (stopping) return idle.promise;
      stopping = true;
      for (const state of states.values()) clock.clearTimeout(state.timer);
      queue.length = 0;
      if (counts.running === 0) idle.resolve();
      else if (graceMs !== undefined) {
        grace = clock.setTimeout(() => {
          checks.abort(
            new DOMException("The scheduler stopped before the check ended", "AbortError"),
          );
        }, graceMs);
      }
      return idle.promise;
    },
  };
}

/**
 * Calls `run` for each item once, in order, `concurrency` at a time; once `signal` is aborted no
 * more start, and those running have their signal aborted after `graceMs()` (asked then). A
 * rejection rejects the round (the runs started go on).
 */
export async function runOnce<T>(
  items: readonly T[],
  run: (item: T, signal: AbortSignal) => Promise<void>,
  options: { readonly concurrency: number; readonly signal: AbortSignal; graceMs(): number },
): Promise<void> {
  const { signal } = options;
  const runs = new AbortController();
  let grace: ReturnType<typeof setTimeout> | undefined;
  const onStop = () => grace = setTimeout(() => runs.abort(), options.graceMs());
  if (signal.aborted) onStop();
  else signal.addEventListener("abort", onStop, { once: true });
  let next = 0;
  async function worker() {
    while (next < items.length && !signal.aborted) await run(items[next++]!, runs.signal);
  }
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, items.length) }, worker));
  } finally {
    signal.removeEventListener("abort", onStop);
    clearTimeout(grace);
  }
}
