/**
 * How long to wait before trying again, after `failures` failures in a row: 0.5 s, 1 s, 2 s, …,
 * at most 30 s.
 *
 * @param failures Failures so far, at least 1.
 * @returns Milliseconds to wait.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffMs } from "./backoff.ts";
 * assert.deepEqual([backoffMs(1), backoffMs(3), backoffMs(20)], [500, 2_000, 30_000]);
 * ```
 */
export function backoffMs(failures: number): number {
  return Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
}

/**
 * Waits `ms`, or less when the signal is aborted first (it never rejects): the pause between
 * tries of something a stopping command must not keep waiting for.
 *
 * @param ms How long to wait.
 * @param signal Ends the wait early.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleep } from "./backoff.ts";
 * const startedMs = performance.now();
 * await sleep(10_000, AbortSignal.abort());
 * assert.ok(performance.now() - startedMs < 1_000, "returns at once when aborted");
 * ```
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  // An aborted signal sends no more "abort" events.
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
