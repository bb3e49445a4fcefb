/**
 * How long to wait before trying again, after `failures` failures in a row: `firstMs`, doubling,
 * at most `maxMs` (by default 0.5 s, 1 s, 2 s, …, at most 30 s).
 *
 * @param failures Failures so far, at least 1.
 * @param options `firstMs` and `maxMs`.
 * @returns Milliseconds to wait.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffMs } from "./backoff.ts";
 * assert.deepEqual([backoffMs(1), backoffMs(3), backoffMs(20)], [500, 2_000, 30_000]);
 * assert.deepEqual([1, 2, 10].map((n) => backoffMs(n, { firstMs: 300, maxMs: 5_000 })), [
 *   300,
 *   600,
 *   5_000,
 * ]);
 * ```
 */
export function backoffMs(
  failures: number,
  { firstMs = 500, maxMs = 30_000 }: { firstMs?: number; maxMs?: number } = {},
): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(failures - 1, 30));
}

/**
 * Waits for `promise` at most `ms`, and says how it stands then. Never rejects.
 *
 * @param promise What to wait for.
 * @param ms How long at most.
 * @returns Its settled result, or `{ status: "pending" }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settledWithin } from "./backoff.ts";
 * assert.deepEqual(await settledWithin(Promise.resolve(1), 10), { status: "fulfilled", value: 1 });
 * assert.deepEqual(await settledWithin(new Promise(() => {}), 10), { status: "pending" });
 * ```
 */
export async function settledWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<PromiseSettledResult<T> | { status: "pending" }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<{ status: "pending" }>((resolve) => {
    timer = setTimeout(() => resolve({ status: "pending" }), ms);
  });
  const settled = promise.then(
    (value): PromiseSettledResult<T> => ({ status: "fulfilled", value }),
    (reason: unknown): PromiseSettledResult<T> => ({ status: "rejected", reason }),
  );
  try {
    return await Promise.race([settled, pending]);
  } finally {
    clearTimeout(timer);
  }
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
