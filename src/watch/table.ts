/**
 * The rows of `monitor watch`, all in order and those the filter lets through. A batch moves only
 * the rows it changed, or sorts all again when it changed many (cheap: the sort is adaptive).
 *
 * @module
 */
import type { CheckResult } from "../check/result.ts";
import { printable } from "../text.ts";
import { responseTimeMsOf } from "./history.ts";
import { addResult, copySite, newSite, settle, type SiteState, statusAt } from "./site.ts";

/** How rows are ordered; `s` cycles through them. */
export const SORTS = ["status", "name", "latency"] as const;
/** One of {@link SORTS}. */
export type Sort = typeof SORTS[number];

type Compare = (a: SiteState, b: SiteState) => number;

const STATUS_ORDER = { down: 0, degraded: 1, stale: 2, up: 3 };

function byName(a: SiteState, b: SiteState): number {
  // localeCompare finds some different texts equal: the key keeps any two rows apart.
  return a.siteName.localeCompare(b.siteName) || a.siteId.localeCompare(b.siteId) ||
    a.region.localeCompare(b.region) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function latencyOf(site: SiteState): number {
  return responseTimeMsOf(site.recent, -1) ?? Infinity;
}

/**
 * How `sort` orders sites at `nowMs`: by status (down, degraded, stale, up), by name, or slowest
 * latest check first (no response counts as slowest); then by name, id and region.
 */
export function comparator(sort: Sort, nowMs: number): Compare {
  switch (sort) {
    case "status":
      return (a, b) =>
        STATUS_ORDER[statusAt(a, nowMs)] - STATUS_ORDER[statusAt(b, nowMs)] || byName(a, b);
    case "name":
      return byName;
    case "latency":
      // Infinity - Infinity is NaN: two rows of no response go by name too.
      return (a, b) => latencyOf(b) - latencyOf(a) || byName(a, b);
  }
}

/** The first index of `list` before `end` (sorted by `compare`) not before `site`. */
function lowerBound(list: SiteState[], site: SiteState, compare: Compare, end: number): number {
  let low = 0;
  let high = end;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(list[middle]!, site) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The rows, kept in order. */
export interface Table {
  /** By region, then site id. */
  readonly rows: Map<string, Map<string, SiteState>>;
  readonly siteIds: Set<string>;
  /** The regions results came from, sorted. */
  regions: string[];
  /**
   * How many batches were applied: a row a batch changes is marked with its number, so that a
   * backfill's batches of every row make no sets of them (30 000 rows: 30-70 MiB more memory).
   */
  batches: number;
  /** Every row, in the order of the sort at the state's time. */
  order: SiteState[];
  /** Those the filter lets through, in the same order; `order` itself when there is no filter. */
  shown: SiteState[];
}

/** What the order of a table depends on. */
export interface Arrangement {
  readonly sort: Sort;
  readonly filter: string;
  readonly nowMs: number;
}

/** Beyond this share of the rows moving, sorting all of them again costs less. */
const WHOLESALE = 1 / 8;

/** @returns Whether results from `region` are kept when `regions` are asked for (all: none). */
export function keepsRegion(regions: readonly string[], region: string): boolean {
  return regions.length === 0 || regions.includes(region);
}

/** @returns A table of no rows. */
export function emptyTable(): Table {
  return { rows: new Map(), siteIds: new Set(), regions: [], batches: 0, order: [], shown: [] };
}

/** @returns The row of a site in a region, if the table has one. */
export function siteAt(table: Table, siteId: string, region: string): SiteState | undefined {
  return table.rows.get(region)?.get(siteId);
}

/** @returns Whether the site's id or name contains `filter`, case-insensitively. */
export function matches(site: SiteState, filter: string): boolean {
  const needle = filter.toLowerCase();
  return site.searchId.includes(needle) || site.searchName.includes(needle);
}

/** Applies a batch of results of the `regions` asked for, in place; false when none was new. */
export function addResults(
  table: Table,
  results: Iterable<CheckResult>,
  arrangement: Arrangement & { readonly regions: readonly string[] },
): boolean {
  const changed: SiteState[] = [];
  const batch = ++table.batches;
  for (const result of results) {
    if (!keepsRegion(arrangement.regions, result.region)) continue;
    // Found by the id and region as the result spells them: printable already when they find one.
    let site = siteAt(table, result.siteId, result.region);
    if (site === undefined) {
      const [siteId, region] = [printable(result.siteId), printable(result.region)];
      site = siteAt(table, siteId, region);
      if (site === undefined) {
        site = newSite(siteId, region);
        let byId = table.rows.get(region);
        if (byId === undefined) {
          table.rows.set(region, byId = new Map());
          table.regions = [...table.regions, region].sort();
        }
        byId.set(siteId, site);
        table.siteIds.add(siteId);
        table.order.push(site); // out of order until the batch is in
      }
    }
    if (addResult(site, result) && site.batch !== batch) {
      site.batch = batch;
      changed.push(site);
    }
  }
  if (changed.length === 0) return false;
  for (const site of changed) settle(site);
  reorder(table, changed, comparator(arrangement.sort, arrangement.nowMs));
  table.shown = filtered(table.order, arrangement.filter);
  return true;
}

/** Puts the rows `moving` in their places: one by one, or all sorted again. */
function reorder(table: Table, moving: SiteState[], compare: Compare): void {
  if (moving.length > table.order.length * WHOLESALE) {
    table.order.sort(compare);
    return;
  }
  // Out of the order, then back in their places from the last, the rows that stay moving up.
  const { order } = table;
  let end = 0;
  const moves = new Set(moving);
  for (const site of order) if (!moves.has(site)) order[end++] = site;
  const adding = [...moving].sort(compare);
  order.length = end + adding.length;
  for (let i = adding.length - 1; i >= 0; i--) {
    const at = lowerBound(order, adding[i]!, compare, end);
    order.copyWithin(at + i + 1, at, end);
    order[at + i] = adding[i]!;
    end = at;
  }
}

function filtered(order: SiteState[], filter: string): SiteState[] {
  return filter === "" ? order : order.filter((site) => matches(site, filter));
}

/**
 * Puts the table, in order for `before`, in order for `after`: at a new time, only the rows that
 * turned stale in between move (when the sort is by status).
 */
export function rearrange(table: Table, before: Arrangement, after: Arrangement): void {
  const compare = comparator(after.sort, after.nowMs);
  let moved = after.sort !== before.sort;
  if (moved) {
    table.order.sort(compare);
  } else if (after.sort === "status" && after.nowMs !== before.nowMs) {
    const turned = table.order.filter((s) =>
      statusAt(s, before.nowMs) !== statusAt(s, after.nowMs)
    );
    moved = turned.length > 0;
    if (moved) reorder(table, turned, compare);
  }
  // A tick that moved nothing leaves the filtered rows as they are: no pass over every row.
  if (moved || after.filter !== before.filter) table.shown = filtered(table.order, after.filter);
}

/** @returns A copy of the table that stays as it is while the table changes (what `p` shows). */
export function frozenCopy(table: Table): Table {
  const copies = new Map(table.order.map((site) => [site, copySite(site)]));
  const copyOf = (site: SiteState) => copies.get(site)!;
  const rows = new Map<string, Map<string, SiteState>>();
  for (const [region, byId] of table.rows) {
    rows.set(region, new Map([...byId].map(([siteId, site]) => [siteId, copyOf(site)])));
  }
  const order = table.order.map(copyOf);
  const shown = table.shown === table.order ? order : table.shown.map(copyOf);
  const { regions, batches } = table;
  return { rows, siteIds: new Set(table.siteIds), regions, batches, order, shown };
}
