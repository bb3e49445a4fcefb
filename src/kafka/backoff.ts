/**
 * How long to wait before trying again, after `failures` failures in a row: 0.5 s, 1 s, 2 s, …,
 * at most 30 s.
 *
 * @param failures Failures so far, at least 1.
 * @returns Milliseconds to wait.
 *
 * @example
 * ```ts
 * import { backoffMs } from "./backoff.ts";
 * console.log(backoffMs(1), backoffMs(3), backoffMs(20)); // 500 2000 30000
 * ```
 */
export function backoffMs(failures: number): number {
  return Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
}
