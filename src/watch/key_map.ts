/**
 * The rows of `monitor watch` by site id and region, in a map that is never changed, only copied,
 * and copied in part: the rows are spread over a fixed number of small buckets, and a change copies
 * the list of buckets and the buckets it touches. The watch holds 30 000 sites × regions; copying
 * all of them for every tenth of a second of results would cost more than the rest of the frame.
 * A row is found by its id and region as a result spells them, without making a key of the two
 * (a backfill looks up millions).
 *
 * @module
 */

/** What the map holds: anything with a site id and a region. */
export interface Keyed {
  readonly siteId: string;
  readonly region: string;
}

/** How many buckets (a power of two): a few rows each at 30 000 rows, and quick to copy. */
const BUCKETS = 4096;

/** A map of rows; see {@link keyMapWith} to change it. */
export interface KeyMap<V extends Keyed> {
  /**
   * Indexed by the hash of id and region, each the hash and the row of its rows in turn (the hash
   * tells most rows apart without comparing text); undefined where no row falls.
   */
  readonly buckets: readonly (readonly (number | V)[] | undefined)[];
  readonly size: number;
}

/**
 * The map with no rows.
 *
 * @returns An empty map.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyKeyMap } from "./key_map.ts";
 * assert.equal(emptyKeyMap().size, 0);
 * ```
 */
export function emptyKeyMap<V extends Keyed>(): KeyMap<V> {
  // Every bucket there from the start: an array written at random places far beyond its length
  // turns into a slow dictionary.
  return { buckets: new Array(BUCKETS).fill(undefined), size: 0 };
}

/**
 * The row of a site in a region.
 *
 * @param map The map.
 * @param siteId The site's id.
 * @param region The region.
 * @returns Its row, or undefined when the map holds none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyKeyMap, keyMapGet, keyMapWith } from "./key_map.ts";
 * const map = keyMapWith(emptyKeyMap(), [{ siteId: "shop", region: "eu" }]);
 * assert.deepEqual(keyMapGet(map, "shop", "eu"), { siteId: "shop", region: "eu" });
 * assert.equal(keyMapGet(map, "shop", "us"), undefined);
 * ```
 */
export function keyMapGet<V extends Keyed>(
  map: KeyMap<V>,
  siteId: string,
  region: string,
): V | undefined {
  const hash = hashOf(siteId, region);
  const bucket = map.buckets[hash & (BUCKETS - 1)];
  if (bucket === undefined) return undefined;
  for (let i = 0; i < bucket.length; i += 2) {
    if (bucket[i] !== hash) continue;
    const row = bucket[i + 1] as V;
    if (row.siteId === siteId && row.region === region) return row;
  }
  return undefined;
}

/**
 * A copy of `map` with `rows` set, each in place of the row of its site and region; `map` itself
 * stays as it was, and shares with the copy every bucket the rows do not touch.
 *
 * @param map The map.
 * @param rows Rows to set.
 * @returns The changed copy (`map` itself when there are no rows).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyKeyMap, keyMapGet, keyMapWith } from "./key_map.ts";
 * const row = (siteId: string, n: number) => ({ siteId, region: "eu", n });
 * const before = keyMapWith(emptyKeyMap<ReturnType<typeof row>>(), [row("a", 1)]);
 * const after = keyMapWith(before, [row("a", 2), row("b", 3)]);
 * assert.deepEqual([keyMapGet(before, "a", "eu")?.n, keyMapGet(after, "a", "eu")?.n], [1, 2]);
 * assert.equal(after.size, 2);
 * ```
 */
export function keyMapWith<V extends Keyed>(map: KeyMap<V>, rows: readonly V[]): KeyMap<V> {
  if (rows.length === 0) return map;
  const buckets = map.buckets.slice();
  const copied = new Set<number>();
  let size = map.size;
  for (const row of rows) {
    const hash = hashOf(row.siteId, row.region);
    const at = hash & (BUCKETS - 1);
    let bucket = buckets[at] as (number | V)[] | undefined;
    if (!copied.has(at)) {
      bucket = bucket === undefined ? [] : bucket.slice();
      buckets[at] = bucket;
      copied.add(at);
    }
    let i = 0;
    for (; i < bucket!.length; i += 2) {
      const old = bucket![i + 1] as V;
      if (bucket![i] === hash && old.siteId === row.siteId && old.region === row.region) break;
    }
    if (i === bucket!.length) size++;
    bucket![i] = hash;
    bucket![i + 1] = row;
  }
  return { buckets, size };
}

/**
 * Every row, in no particular order.
 *
 * @param map The map.
 * @returns The rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyKeyMap, keyMapValues, keyMapWith } from "./key_map.ts";
 * const map = keyMapWith(emptyKeyMap(), [{ siteId: "a", region: "eu" }, { siteId: "b", region: "eu" }]);
 * assert.deepEqual(keyMapValues(map).map((row) => row.siteId).toSorted(), ["a", "b"]);
 * ```
 */
export function keyMapValues<V extends Keyed>(map: KeyMap<V>): V[] {
  const values: V[] = [];
  for (const bucket of map.buckets) {
    for (let i = 1; i < (bucket?.length ?? 0); i += 2) values.push(bucket![i] as V);
  }
  return values;
}

/** FNV-1a over the UTF-16 code units of the id, "@" and the region, as a 31-bit integer. */
function hashOf(siteId: string, region: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < siteId.length; i++) {
    hash ^= siteId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= 0x40;
  hash = Math.imul(hash, 0x01000193);
  for (let i = 0; i < region.length; i++) {
    hash ^= region.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash & 0x7fffffff;
}
