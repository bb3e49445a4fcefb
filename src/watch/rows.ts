/**
 * What a row of `monitor watch` shows at the state's time, derived for the rows on screen only.
 *
 * @module
 */
import { type RecentCheck, recentChecks } from "./history.ts";
import { type SiteState, type Status, statusAt } from "./site.ts";
import { displayed, selectedIndex, type WatchState } from "./state.ts";
import { siteAt } from "./table.ts";

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

/** @returns What a site's row shows at `nowMs`, with p95 and uptime over `windowMs`. */
export function rowOf(
  site: SiteState,
  { windowMs, nowMs }: Pick<WatchState, "windowMs" | "nowMs">,
): Row {
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

/** @returns Every row the filter lets through, in order (the view derives only those on screen). */
export function rowsOf(state: WatchState): Row[] {
  return displayed(state).shown.map((site) => rowOf(site, state));
}

/**
 * The `room` rows on screen: from the top, or ending at the selected row once it is further down.
 *
 * @returns The rows, and how many rows the filter lets through.
 */
export function windowOf(state: WatchState, room: number): { rows: Row[]; total: number } {
  const { shown } = displayed(state);
  const at = Math.max(0, selectedIndex(state));
  const first = Math.min(Math.max(0, at - room + 1), Math.max(0, shown.length - room));
  const rows = shown.slice(first, first + room).map((site) => rowOf(site, state));
  return { rows, total: shown.length };
}

/** @returns The same site's rows in the other regions, in the order of their names. */
export function otherRegions(state: WatchState, site: SiteState): Row[] {
  const table = displayed(state);
  return table.regions.flatMap((region) => {
    const other = region === site.region ? undefined : siteAt(table, site.siteId, region);
    return other === undefined ? [] : [rowOf(other, state)];
  });
}
