/**
 * A checker's memory for the bodies its checks keep: one total, shared by the checks in progress,
 * claimed chunk by chunk. When a chunk does not fit, the largest body gives way (`body_too_large`)
 * if it is larger than the asking one would become; otherwise the asking one gives up. So a big
 * body never starves small ones, and no check waits for memory another holds.
 *
 * @module
 */

/** The memory shared by the bodies in flight. */
export interface BodyBudget {
  readonly totalBytes: number;
  heldBytes(): number;
  /** Opens a claim for one body; `onEvicted` is called once if a smaller body takes its bytes. */
  claim(onEvicted: () => void): BodyClaim;
}

/** One body's share of a {@link BodyBudget}; disposing of it gives its bytes back. */
interface BodyClaim extends Disposable {
  /** Adds `bytes`, evicting the largest body if need be; `false` closes the claim. */
  take(bytes: number): boolean;
}

/**
 * The total when `CHECK_BODY_MEMORY_BYTES` is unset: a quarter of the heap limit (bodies live
 * outside the heap, so this is what they may add: 64 MiB under `--max-heap-size=256`).
 *
 * @param heapLimitBytes `heap_size_limit` of `v8.getHeapStatistics()`.
 */
export function defaultBodyBytes(heapLimitBytes: number): number {
  return Math.floor(heapLimitBytes / 4);
}

/** A budget of `totalBytes` for the bodies in flight. */
export function bodyBudget(totalBytes: number): BodyBudget {
  let freeBytes = totalBytes;
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

interface Holder {
  bytes: number;
  readonly onEvicted: () => void;
}
