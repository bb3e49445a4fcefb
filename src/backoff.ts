/**
 * Waiting between tries.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";

/**
 * How long to wait after `failures` failures in a row: `firstMs`, doubling, at most `maxMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffMs } from "./backoff.ts";
 * assert.deepEqual([backoffMs(1), backoffMs(3), backoffMs(20)], [500, 2_000, 30_000]);
 * assert.equal(backoffMs(2, { firstMs: 300, maxMs: 5_000 }), 600);
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
  const timer = new AbortController();
  try {
    return await Promise.race([
      Promise.allSettled([promise]).then(([settled]) => settled!),
      delay(ms, { status: "pending" } as const, { signal: timer.signal }),
    ]);
  } finally {
    timer.abort();
  }
}

/**
 * Waits `ms`, or less when the signal is aborted first; never rejects.
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
  return delay(ms, undefined, { signal }).catch(() => {});
}
