/**
 * A map from text keys to values that is never changed, only copied, and copied in part: the keys
 * are spread over a fixed number of small buckets, and a change copies the list of buckets and the
 * buckets it touches. The watch holds 30 000 sites × regions; copying all of them for every tenth of
 * a second of results would cost more than the rest of the frame.
 *
 * @module
 */

/** How many buckets: a few keys each at 30 000 keys, and the list of them quick to copy. */
const BUCKETS = 4096;

/** A map from text keys; see {@link keyMapWith} to change it. */
export interface KeyMap<V> {
  /** Indexed by the key's hash; undefined where no key falls. */
  readonly buckets: readonly (ReadonlyMap<string, V> | undefined)[];
  readonly size: number;
}

/**
 * The map with no keys.
 *
 * @returns An empty map.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyKeyMap } from "./key_map.ts";
 * assert.equal(emptyKeyMap<number>().size, 0);
 * ```
 */
export function emptyKeyMap<V>(): KeyMap<V> {
  return { buckets: [], size: 0 };
}

/**
 * The value of `key`.
 *
 * @param map The map.
 * @param key The key.
 * @returns Its value, or undefined when the map does not hold it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyKeyMap, keyMapGet, keyMapWith } from "./key_map.ts";
 * const map = keyMapWith(emptyKeyMap<number>(), new Map([["a", 1]]));
 * assert.equal(keyMapGet(map, "a"), 1);
 * assert.equal(keyMapGet(map, "b"), undefined);
 * ```
 */
export function keyMapGet<V>(map: KeyMap<V>, key: string): V | undefined {
  return map.buckets[bucketOf(key)]?.get(key);
}

/**
 * A copy of `map` with `changes` set; `map` itself stays as it was, and shares with the copy every
 * bucket the changes do not touch.
 *
 * @param map The map.
 * @param changes Keys to set, with their new values.
 * @returns The changed copy (`map` itself when there are no changes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyKeyMap, keyMapGet, keyMapWith } from "./key_map.ts";
 * const before = keyMapWith(emptyKeyMap<number>(), new Map([["a", 1]]));
 * const after = keyMapWith(before, new Map([["a", 2], ["b", 3]]));
 * assert.deepEqual([keyMapGet(before, "a"), keyMapGet(after, "a"), after.size], [1, 2, 2]);
 * ```
 */
export function keyMapWith<V>(map: KeyMap<V>, changes: ReadonlyMap<string, V>): KeyMap<V> {
  if (changes.size === 0) return map;
  const buckets = map.buckets.slice();
  buckets.length = BUCKETS;
  const copied = new Set<number>();
  let size = map.size;
  for (const [key, value] of changes) {
    const at = bucketOf(key);
    let bucket = buckets[at] as Map<string, V> | undefined;
    if (!copied.has(at)) {
      bucket = new Map(bucket);
      buckets[at] = bucket;
      copied.add(at);
    }
    if (!bucket!.has(key)) size++;
    bucket!.set(key, value);
  }
  return { buckets, size };
}

/**
 * Every value, in no particular order.
 *
 * @param map The map.
 * @returns The values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyKeyMap, keyMapValues, keyMapWith } from "./key_map.ts";
 * const map = keyMapWith(emptyKeyMap<number>(), new Map([["a", 1], ["b", 2]]));
 * assert.deepEqual(keyMapValues(map).toSorted(), [1, 2]);
 * ```
 */
export function keyMapValues<V>(map: KeyMap<V>): V[] {
  const values: V[] = [];
  for (const bucket of map.buckets) {
    if (bucket !== undefined) { for (const value of bucket.values()) values.push(value); }
  }
  return values;
}

/** FNV-1a over the UTF-16 code units, folded to a bucket. */
function bucketOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % BUCKETS;
}
