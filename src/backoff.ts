/**
 * Waiting between tries.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";

/** How long to wait after `failures` failures in a row: `firstMs`, doubling, at most `maxMs`. */
export function backoffMs(
  failures: number,
  { firstMs = 500, maxMs = 30_000 }: { firstMs?: number; maxMs?: number } = {},
): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(failures - 1, 30));
}

/** Waits for `promise` at most `ms`, and says how it stands then. Never rejects. */
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

/** Waits `ms`, or less when the signal is aborted first; never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => {});
}
