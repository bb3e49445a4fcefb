/**
 * A checker's memory for the bodies its checks keep (to look for a pattern in them): one total,
 * shared by the checks in progress, claimed chunk by chunk as the bodies arrive. Whatever the
 * sites ask for, the bodies in flight never hold more than the total together.
 *
 * When a chunk does not fit, the largest body gives way if it is larger than the asking one would
 * become (its check fails, as `body_too_large`); otherwise the asking one gives up. So a big body
 * never starves small ones (the usual case), and no check waits for memory another one holds.
 *
 * @module
 */

/** The memory shared by the bodies in flight. */
export interface BodyBudget {
  /** The total, in bytes. */
  readonly totalBytes: number;
  /** Bytes the open claims hold together now. */
  heldBytes(): number;
  /**
   * Opens a claim for one body.
   *
   * @param onEvicted Called once, when the claim's bytes are taken back for a smaller body: the
   *   claim then holds nothing and takes nothing more.
   */
  claim(onEvicted: () => void): BodyClaim;
}

/** One body's share of a {@link BodyBudget}; disposing of it gives its bytes back. */
export interface BodyClaim extends Disposable {
  /**
   * Adds `bytes` to the claim, giving up the largest body if need be.
   *
   * @returns Whether they were granted; when not, the claim has given its bytes back and is closed.
   */
  take(bytes: number): boolean;
}

/** Of the JavaScript heap's limit, the share bodies get unless told: see {@link defaultBodyBytes}. */
const HEAP_SHARE = 0.25;

/**
 * The total a checker gives bodies when `CHECK_BODY_MEMORY_BYTES` is unset: a quarter of its heap
 * limit. Bodies are kept as bytes outside the heap, so this is what they may add to the memory the
 * process was told it may use (64 MiB under `deno task produce`'s `--max-heap-size=256`).
 *
 * @param heapLimitBytes `heap_size_limit` of `v8.getHeapStatistics()`.
 * @returns Bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultBodyBytes } from "./body_budget.ts";
 * assert.equal(defaultBodyBytes(256 * 2 ** 20), 64 * 2 ** 20);
 * ```
 */
export function defaultBodyBytes(heapLimitBytes: number): number {
  return Math.floor(heapLimitBytes * HEAP_SHARE);
}

/**
 * A budget of `totalBytes` for the bodies in flight.
 *
 * @param totalBytes The most the bodies hold together.
 * @returns The budget, with nothing claimed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyBudget } from "./body_budget.ts";
 * const budget = bodyBudget(100);
 * let evicted = false;
 * const big = budget.claim(() => evicted = true);
 * assert.equal(big.take(80), true);
 * using small = budget.claim(() => {});
 * assert.equal(small.take(30), true); // the larger body gave way
 * assert.equal(evicted, true);
 * assert.equal(budget.heldBytes(), 30);
 * ```
 */
export function bodyBudget(totalBytes: number): BodyBudget {
  let freeBytes = totalBytes;
  /** The open claims. */
  const holders = new Set<Holder>();

  function close(holder: Holder): void {
    if (holders.delete(holder)) freeBytes += holder.bytes;
  }

  return {
    totalBytes,
    heldBytes: () => totalBytes - freeBytes,
    claim(onEvicted) {
      const own: Holder = { bytes: 0, onEvicted };
      holders.add(own);
      return {
        take(bytes) {
          if (!holders.has(own)) return false;
          if (bytes > freeBytes) {
            let largest = own;
            for (const holder of holders) if (holder.bytes > largest.bytes) largest = holder;
            // Larger than the asking body will be, so larger than `bytes`: it alone makes room.
            if (largest.bytes <= own.bytes + bytes) {
              close(own);
              return false;
            }
            close(largest);
            largest.onEvicted();
          }
          freeBytes -= bytes;
          own.bytes += bytes;
          return true;
        },
        [Symbol.dispose]: () => close(own),
      };
    },
  };
}

/** An open claim: the bytes it holds, and whom to tell when it is given up. */
interface Holder {
  bytes: number;
  readonly onEvicted: () => void;
}
