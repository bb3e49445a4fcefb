/**
 * One round instead of a schedule (`monitor produce --once`): every site checked once, at most
 * `concurrency` at a time, with the same stop as the scheduler's: no new check once stopped, and
 * those in progress called off when the grace runs out.
 *
 * @module
 */

/** Options of {@link runOnce}. */
export interface RunOnceOptions {
  /** Most runs in progress at once. */
  readonly concurrency: number;
  /** Once aborted, no more runs start. */
  readonly signal: AbortSignal;
  /**
   * How long runs in progress may go on after `signal` is aborted before their own signal is;
   * asked when `signal` is aborted.
   */
  readonly graceMs: () => number;
}

/**
 * Calls `run` for each item once, in order, `concurrency` at a time. Once `signal` is aborted no
 * more are started, and the signal given to those running is aborted after `graceMs()`.
 *
 * @param items What to run, such as the sites to check.
 * @param run One run. It must settle soon after its signal is aborted; a rejection rejects the
 *   round (the runs already started go on).
 * @param options Concurrency limit, stop signal and grace.
 * @returns Resolves once every run started has settled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runOnce } from "./run_once.ts";
 * const done: string[] = [];
 * let running = 0;
 * let most = 0;
 * await runOnce(["a", "b", "c"], async (item) => {
 *   most = Math.max(most, ++running);
 *   await new Promise((resolve) => setTimeout(resolve, 10));
 *   running--;
 *   done.push(item);
 * }, { concurrency: 2, signal: new AbortController().signal, graceMs: () => 0 });
 * assert.deepEqual(done.toSorted(), ["a", "b", "c"]);
 * assert.equal(most, 2);
 * ```
 */
export async function runOnce<T>(
  items: readonly T[],
  run: (item: T, signal: AbortSignal) => Promise<void>,
  options: RunOnceOptions,
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
