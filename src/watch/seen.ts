/**
 * The check ids seen lately, so that the line output prints a check once when the topic holds it
 * twice. Kafka is at least once: a producer that sends a batch again after part of it was stored
 * (one partition not ready yet, a send that timed out after the broker took it) stores that part
 * twice. The copy follows its original closely on the same partition, so remembering the latest
 * ids is enough, and memory stays bounded.
 *
 * @module
 */

/** How many ids are remembered: a few MiB, and minutes of results of 10 000 sites in 3 regions. */
const REMEMBERED = 100_000;

/**
 * A check id memory of bounded size.
 *
 * @param capacity How many of the latest ids it remembers.
 * @returns A function that tells whether an id was seen among the latest `capacity` ones, and
 *   remembers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recentCheckIds } from "./seen.ts";
 * const seen = recentCheckIds(2);
 * assert.deepEqual(["a", "b", "a"].map((id) => seen(id)), [false, false, true]);
 * seen("c");
 * assert.equal(seen("a"), false, "the latest two were b and c");
 * ```
 */
export function recentCheckIds(capacity = REMEMBERED): (checkId: string) => boolean {
  const seen = new Set<string>();
  const ring: (string | undefined)[] = [];
  let next = 0;
  return (checkId) => {
    if (seen.has(checkId)) return true;
    const forgotten = ring[next];
    if (forgotten !== undefined) seen.delete(forgotten);
    ring[next] = checkId;
    next = (next + 1) % capacity;
    seen.add(checkId);
    return false;
  };
}
