/**
 * The rows of `monitor watch` as the reducer keeps them: every site × region by key, all of them
 * in order, and those the filter lets through in the same order. Each change is applied to what it
 * changes — a batch of results moves its own rows, a tick moves the rows that turned stale — and
 * only a new sort or filter goes through every row.
 *
 * @module
 */
import { emptyKeyMap, type KeyMap, keyMapGet, keyMapValues, keyMapWith } from "./key_map.ts";
import { comparator, reordered, type Sort } from "./order.ts";
import { type SiteChange, type SiteState, statusAt } from "./site.ts";

/** The rows, kept in order. */
export interface Table {
  /** Every site × region. */
  readonly sites: KeyMap<SiteState>;
  /** Every site × region, in the order of the sort at the state's time. */
  readonly order: readonly SiteState[];
  /** Those the filter lets through, in the same order; `order` itself when there is no filter. */
  readonly shown: readonly SiteState[];
  /** The regions results came from, sorted. */
  readonly regions: readonly string[];
  /** How many different sites, whatever their regions. */
  readonly siteCount: number;
}

/** What the order of a table depends on. */
export interface Arrangement {
  readonly sort: Sort;
  /** Rows whose site id or name contains it, case-insensitively; every row when empty. */
  readonly filter: string;
  readonly nowMs: number;
}

/**
 * The share of the rows a change may move one by one; beyond it, sorting them all anew costs less
 * (a backfill's batch, a region gone silent).
 */
const WHOLESALE = 1 / 4;

/** The table before anything arrived. */
export const EMPTY_TABLE: Table = {
  sites: emptyKeyMap(),
  order: [],
  shown: [],
  regions: [],
  siteCount: 0,
};

/**
 * Whether the filter lets a site through.
 *
 * @param site The site.
 * @param filter The filter's text.
 * @returns True when its id or name contains the text, case-insensitively.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matches } from "./table.ts";
 * assert.ok(matches({ searchId: "shop", searchName: "web shop" }, "SHOP"));
 * ```
 */
export function matches(site: Pick<SiteState, "searchId" | "searchName">, filter: string): boolean {
  return matcher(filter)(site);
}

/** {@link matches} for one filter, its text lowered once for every site it is asked about. */
function matcher(filter: string): (site: Pick<SiteState, "searchId" | "searchName">) => boolean {
  const needle = filter.toLowerCase();
  return (site) => site.searchId.includes(needle) || site.searchName.includes(needle);
}

/**
 * The table with `changed` sites replacing their older versions (or added).
 *
 * @param table The table.
 * @param changed New versions of sites, with the versions they replace.
 * @param arrangement The sort, filter and time the table is in.
 * @returns The new table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_CONNECTION_DETAILS } from "../check/result.ts";
 * import { changedSites } from "./site.ts";
 * import { EMPTY_TABLE, withSites } from "./table.ts";
 * const result = {
 *   ...NO_CONNECTION_DETAILS, version: 1, checkId: "0190d6a8-7b5c-7def-8abc-0123456789ab",
 *   siteId: "shop", siteName: "Shop", url: "https://shop.example/", region: "eu",
 *   checker: "web-1:42", checkedAt: "2026-11-25T10:00:00.000Z", timeToHeadersMs: 10,
 *   responseTimeMs: 20, statusCode: 200, pattern: null, patternMatched: null,
 *   certExpiresAt: null, up: true, error: null,
 * } as const;
 * const us = { ...result, checkId: "0190d6a8-7b5c-7def-8abc-0123456789ac", region: "us" };
 * const changed = changedSites(EMPTY_TABLE.sites, [result, us]);
 * const table = withSites(EMPTY_TABLE, changed, { sort: "status", filter: "", nowMs: 0 });
 * assert.deepEqual(table.order.map((site) => site.key), ["shop@eu", "shop@us"]);
 * assert.deepEqual([table.siteCount, table.regions], [1, ["eu", "us"]]);
 * ```
 */
export function withSites(
  table: Table,
  changed: readonly SiteChange[],
  arrangement: Arrangement,
): Table {
  if (changed.length === 0) return table;
  const compare = comparator(arrangement.sort, arrangement.nowMs);
  // A batch that changes many rows (a backfill's) leaves most of them where they were (the same
  // status and name): those take their old places, and only the others are sorted in.
  const many = changed.length > table.order.length * WHOLESALE;
  let staying = 0;
  const previous: SiteState[] = [];
  const moving: SiteState[] = [];
  let regions = table.regions;
  let siteCount = table.siteCount;
  const counted = new Set<string>();
  for (const { before: old, after: site } of changed) {
    if (old !== undefined) {
      // No two rows compare equal: only a row's versions in the same place do.
      if (many && compare(old, site) === 0) {
        staying++;
      } else {
        previous.push(old);
        moving.push(site);
      }
      continue;
    }
    moving.push(site);
    // New in this region: a new site unless another region (or this batch) brought it before.
    const known = counted.has(site.siteId) ||
      table.regions.some((r) => keyMapGet(table.sites, site.siteId, r) !== undefined);
    if (!known) {
      siteCount++;
      counted.add(site.siteId);
    }
    if (!regions.includes(site.region)) regions = [...regions, site.region].sort();
  }
  const sites = keyMapWith(table.sites, changed.map(({ after }) => after));
  // (A row that moves keeps its old version here: `reordered` takes that out.)
  const inPlace = (list: readonly SiteState[]) =>
    staying === 0 ? list : list.map((site) => {
      const now = keyMapGet(sites, site.siteId, site.region)!;
      return now !== site && compare(site, now) === 0 ? now : site;
    });
  let order = inPlace(table.order);
  let shown = arrangement.filter === "" ? order : inPlace(table.shown);
  if (moving.length > table.order.length * WHOLESALE) {
    order = keyMapValues(sites).sort(compare);
    shown = filtered(order, arrangement.filter);
  } else if (moving.length > 0) {
    const match = matcher(arrangement.filter);
    order = reordered(order, previous, moving, compare, compare);
    shown = arrangement.filter === ""
      ? order
      : reordered(shown, previous.filter(match), moving.filter(match), compare, compare);
  }
  return { sites, order, shown, regions, siteCount };
}

/**
 * The table at a later (or earlier) time: the rows that turned stale in between move, when the sort
 * is by status; the others keep their places.
 *
 * @param table The table, in order at `fromMs`.
 * @param fromMs The time it was in order for.
 * @param arrangement The sort, filter and the new time.
 * @returns The table in order at `arrangement.nowMs` (`table` itself when no row moves).
 *
 * @example
 * ```ts ignore
 * const live = atTime(state.live, state.nowMs, { ...state, nowMs: Date.now() });
 * ```
 */
export function atTime(table: Table, fromMs: number, arrangement: Arrangement): Table {
  const toMs = arrangement.nowMs;
  if (arrangement.sort !== "status" || fromMs === toMs) return table;
  const moved = table.order.filter((s) => statusAt(s, fromMs) !== statusAt(s, toMs));
  if (moved.length === 0) return table;
  // A region's checker gone silent turns a third of the rows stale at once: sort them all.
  if (moved.length > table.order.length * WHOLESALE) return resorted(table, arrangement);
  const before = comparator("status", fromMs);
  const after = comparator("status", toMs);
  const order = reordered(table.order, moved, moved, before, after);
  const { filter } = arrangement;
  const shownMoved = moved.filter(matcher(filter));
  const shown = filter === ""
    ? order
    : reordered(table.shown, shownMoved, shownMoved, before, after);
  return { ...table, order, shown };
}

/**
 * The table in a new sort: every row sorted again.
 *
 * @param table The table.
 * @param arrangement The new sort, the filter and the time.
 * @returns The table in the new order.
 *
 * @example
 * ```ts ignore
 * const live = resorted(state.live, { ...state, sort: "name" });
 * ```
 */
export function resorted(table: Table, arrangement: Arrangement): Table {
  const order = table.order.toSorted(comparator(arrangement.sort, arrangement.nowMs));
  return { ...table, order, shown: filtered(order, arrangement.filter) };
}

/**
 * The table with a new filter: the rows it lets through, in the order all rows are in.
 *
 * @param table The table.
 * @param arrangement The sort, the new filter and the time.
 * @returns The table showing what the filter lets through.
 *
 * @example
 * ```ts ignore
 * const live = refiltered(state.live, { ...state, filter: "shop" });
 * ```
 */
export function refiltered(table: Table, arrangement: Arrangement): Table {
  return { ...table, shown: filtered(table.order, arrangement.filter) };
}

function filtered(order: readonly SiteState[], filter: string): readonly SiteState[] {
  return filter === "" ? order : order.filter(matcher(filter));
}
