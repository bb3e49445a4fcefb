/**
 * The order of the rows of `monitor watch`, kept rather than made: a sorted list of sites that a
 * batch of results changes by taking out the sites it changed and putting their new versions in
 * their places, found by binary search — a copy of the list and a few comparisons per changed site,
 * instead of sorting 30 000 rows ten times a second.
 *
 * @module
 */
import { responseTimeMsOf } from "./history.ts";
import { type SiteState, type Status, statusAt } from "./site.ts";

/** How rows are ordered; `s` cycles through them. */
export const SORTS = ["status", "name", "latency"] as const;
/** One of {@link SORTS}. */
export type Sort = typeof SORTS[number];

/** Compares two sites: negative when `a` comes first. */
export type Compare = (a: SiteState, b: SiteState) => number;

const STATUS_ORDER: Record<Status, number> = { down: 0, degraded: 1, stale: 2, up: 3 };

function byName(a: SiteState, b: SiteState): number {
  // Then the key in code units: no two rows compare equal, so a binary search finds the very row.
  return a.siteName.localeCompare(b.siteName) || a.siteId.localeCompare(b.siteId) ||
    a.region.localeCompare(b.region) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function latencyOf(site: SiteState): number {
  return responseTimeMsOf(site.recent, -1) ?? Infinity;
}

/**
 * How `sort` orders sites at `nowMs`: by status (down, degraded, stale, up), by name, or slowest
 * latest check first (no response counts as slowest); then by name, id and region.
 *
 * @param sort The sort.
 * @param nowMs The time, for which sites are stale.
 * @returns The comparison.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SiteState } from "./site.ts";
 * import { comparator } from "./order.ts";
 * const site = (name: string) =>
 *   ({ siteName: name, siteId: name, region: "eu", key: `${name}@eu` }) as SiteState;
 * const sorted = [site("b"), site("a")].toSorted(comparator("name", Date.now()));
 * assert.deepEqual(sorted.map((s) => s.siteName), ["a", "b"]);
 * ```
 */
export function comparator(sort: Sort, nowMs: number): Compare {
  switch (sort) {
    case "status":
      return (a, b) =>
        STATUS_ORDER[statusAt(a, nowMs)] - STATUS_ORDER[statusAt(b, nowMs)] || byName(a, b);
    case "name":
      return byName;
    case "latency":
      return (a, b) => {
        const [x, y] = [latencyOf(a), latencyOf(b)];
        return x === y ? byName(a, b) : x < y ? 1 : -1;
      };
  }
}

/** The first index of `list` whose site does not come before `site`. */
function lowerBound(
  list: readonly SiteState[],
  site: SiteState,
  compare: Compare,
  from = 0,
): number {
  let low = from;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(list[middle]!, site) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Where `site` is in `list`, by binary search.
 *
 * @param list Sites sorted by `compare`.
 * @param site The site, as `list` holds it (an older or newer version compares differently).
 * @param compare The order of `list`.
 * @returns Its index, or -1 when `list` does not hold it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SiteState } from "./site.ts";
 * import { comparator, positionOf } from "./order.ts";
 * const site = (name: string) =>
 *   ({ siteName: name, siteId: name, region: "eu", key: `${name}@eu` }) as SiteState;
 * const [a, b, c] = [site("a"), site("b"), site("c")];
 * assert.equal(positionOf([a, c], c, comparator("name", 0)), 1);
 * assert.equal(positionOf([a, c], b, comparator("name", 0)), -1);
 * ```
 */
export function positionOf(list: readonly SiteState[], site: SiteState, compare: Compare): number {
  const at = lowerBound(list, site, compare);
  return list[at]?.key === site.key ? at : -1;
}

/**
 * `list` without `removed` and with `added`, in order, as a new list (`list` stays as it was).
 *
 * @param list Sites sorted by `compareRemoved`, holding every site of `removed`.
 * @param removed Sites to take out, as `list` holds them.
 * @param added Sites to put in, none of them in `list` once `removed` are out.
 * @param compareRemoved The order `list` is in.
 * @param compareAdded The order of the result; it must order the sites that stay as
 *   `compareRemoved` does (a tick changes the order of only the sites that turned stale).
 * @returns The new list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SiteState } from "./site.ts";
 * import { comparator, reordered } from "./order.ts";
 * const site = (name: string) =>
 *   ({ siteName: name, siteId: name, region: "eu", key: `${name}@eu` }) as SiteState;
 * const [a, b, c, d] = [site("a"), site("b"), site("c"), site("d")];
 * const byName = comparator("name", 0);
 * assert.deepEqual(reordered([a, b, d], [b], [c], byName, byName), [a, c, d]);
 * ```
 */
export function reordered(
  list: readonly SiteState[],
  removed: readonly SiteState[],
  added: readonly SiteState[],
  compareRemoved: Compare,
  compareAdded: Compare,
): SiteState[] {
  const gone = removed.map((site) => positionOf(list, site, compareRemoved));
  if (gone.includes(-1)) throw new Error("The watch's order lost a site: a bug");
  gone.sort((a, b) => a - b);
  const adding = added.toSorted(compareAdded);
  // A batch of results moves rows within one order: each addition's place is found in `list`
  // itself. A tick changes the order of the rows it moves: theirs are found among the others.
  return compareRemoved === compareAdded
    ? merged(list, gone, adding, compareAdded)
    : merged(merged(list, gone, [], compareAdded), [], adding, compareAdded);
}

/**
 * `list` without the rows at the indexes `gone` (ascending) and with `adding` (sorted by
 * `compare`, as `list` is but for the rows gone) at their places. One new list, sized once: at
 * 30 000 rows, ten times a second, its copies are most of the garbage a frame makes.
 */
function merged(
  list: readonly SiteState[],
  gone: readonly number[],
  adding: readonly SiteState[],
  compare: Compare,
): SiteState[] {
  const out = new Array<SiteState>(list.length - gone.length + adding.length);
  let written = 0;
  let skip = 0;
  let from = 0;
  const keepUpTo = (to: number) => {
    for (; from < to; from++) {
      if (gone[skip] === from) skip++;
      else out[written++] = list[from]!;
    }
  };
  for (const site of adding) {
    keepUpTo(lowerBound(list, site, compare, from));
    out[written++] = site;
  }
  keepUpTo(list.length);
  return out;
}
