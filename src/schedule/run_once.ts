/**
 * One round instead of a schedule (`monitor produce --once`), with the scheduler's stop.
 *
 * @module
 */

/** Options of {@link runOnce}. */
interface RunOnceOptions {
  readonly concurrency: number;
  /** Once aborted, no more runs start. */
  readonly signal: AbortSignal;
  /** How long runs in progress may go on once `signal` is aborted (asked then). */
  readonly graceMs: () => number;
}

/**
 * Calls `run` for each item once, in order, `concurrency` at a time; once `signal` is aborted no
 * more start, and those running have their signal aborted after `graceMs()`. A rejection rejects
 * the round (the runs started go on).
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
