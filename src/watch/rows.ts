/**
 * What a row of `monitor watch` shows, derived for the rows on screen only: the window of rows
 * around the selection, each with its status, figures over the window of p95 and uptime, and
 * sparkline at the state's time.
 *
 * @module
 */
import { keyMapGet } from "./key_map.ts";
import { type RecentCheck, recentChecks } from "./history.ts";
import { type SiteState, type Status, statusAt } from "./site.ts";
import { displayed, selectedIndex, type WatchState } from "./state.ts";

/** One row of the table, derived. */
export interface Row {
  /** `siteId@region`. */
  readonly key: string;
  readonly siteId: string;
  readonly region: string;
  readonly siteName: string;
  readonly status: Status;
  readonly last: RecentCheck;
  /** Response times of the recent checks, oldest first; null where a check had none. */
  readonly responseTimes: readonly (number | null)[];
  /** Over the window; null when no check in it had a response time. */
  readonly p95Ms: number | null;
  /** Share of the window's checks that were up, 0 to 1. */
  readonly uptime: number;
  readonly ageMs: number;
  /** The interval between checks, as observed (median gap); null until two checks arrived. */
  readonly intervalMs: number | null;
}

/**
 * What a site's row shows at `nowMs`.
 *
 * @param site The site in one region.
 * @param windowMs The window of p95 and uptime.
 * @param nowMs The time.
 * @returns The row.
 *
 * @example
 * ```ts ignore
 * const row = rowOf(site, state.windowMs, state.nowMs);
 * ```
 */
export function rowOf(site: SiteState, windowMs: number, nowMs: number): Row {
  const recent = recentChecks(site.recent);
  const last = recent.at(-1)!;
  const inWindow = recent.filter((c) => c.checkedAtMs >= nowMs - windowMs);
  const times = inWindow.map((c) => c.responseTimeMs).filter((ms): ms is number => ms !== null);
  return {
    key: site.key,
    siteId: site.siteId,
    region: site.region,
    siteName: site.siteName,
    status: statusAt(site, nowMs),
    last,
    responseTimes: recent.map((c) => c.responseTimeMs),
    p95Ms: times.length === 0 ? null : nearestRank(times, 0.95),
    uptime: inWindow.length === 0
      ? (last.up ? 1 : 0)
      : inWindow.filter((c) => c.up).length / inWindow.length,
    ageMs: Math.max(0, nowMs - last.checkedAtMs),
    intervalMs: site.intervalMs,
  };
}

/** The nearest-rank percentile, as `percentile_disc` computes it. */
function nearestRank(values: number[], q: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * Every row the filter lets through, in order, at the state's time. The view derives only the
 * rows on screen ({@link windowOf}); this is for tests and for what needs them all.
 *
 * @param state The state.
 * @returns The rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialState } from "./state.ts";
 * import { rowsOf } from "./rows.ts";
 * assert.deepEqual(rowsOf(initialState(60_000)), []);
 * ```
 */
export function rowsOf(state: WatchState): Row[] {
  return displayed(state).shown.map((site) => rowOf(site, state.windowMs, state.nowMs));
}

/** The rows on screen. */
export interface RowWindow {
  /** The index of the first of them among all rows the filter lets through. */
  readonly first: number;
  readonly rows: readonly Row[];
  /** How many rows the filter lets through. */
  readonly total: number;
}

/**
 * The `room` rows on screen: from the top, or ending at the selected row once it is further down.
 *
 * @param state The state.
 * @param room How many rows fit.
 * @returns The rows in view and where they start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialState } from "./state.ts";
 * import { windowOf } from "./rows.ts";
 * assert.deepEqual(windowOf(initialState(60_000), 20), { first: 0, rows: [], total: 0 });
 * ```
 */
export function windowOf(state: WatchState, room: number): RowWindow {
  const { shown } = displayed(state);
  const at = Math.max(0, selectedIndex(state));
  const first = Math.min(Math.max(0, at - room + 1), Math.max(0, shown.length - room));
  const rows = shown.slice(first, first + room).map((site) =>
    rowOf(site, state.windowMs, state.nowMs)
  );
  return { first, rows, total: shown.length };
}

/**
 * The same site's rows in the other regions, for the detail pane.
 *
 * @param state The state.
 * @param site A site in one region.
 * @returns Its rows in the other regions, in the order of the regions' names.
 *
 * @example
 * ```ts ignore
 * otherRegions(state, site).map((row) => `${row.region} ${row.status}`);
 * ```
 */
export function otherRegions(state: WatchState, site: SiteState): Row[] {
  const table = displayed(state);
  return table.regions.flatMap((region) => {
    const other = region === site.region ? undefined : keyMapGet(table.sites, site.siteId, region);
    return other === undefined ? [] : [rowOf(other, state.windowMs, state.nowMs)];
  });
}
