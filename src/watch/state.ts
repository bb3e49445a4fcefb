/**
 * The state of `monitor watch`, as a pure reducer: results arrive in batches (the source gathers
 * them for up to 100 ms, which also bounds how often the screen is drawn), a tick moves the clock
 * on, keys change the selection, filter, sort and pause. A row is one site as checked from one
 * region. The rows are kept in order as they change (see `table.ts`), so that a frame costs what
 * changed and what is on screen, not the 30 000 rows of 10 000 sites in three regions; `rows.ts`
 * derives what the rows on screen show. No clock, no I/O: the terminal shell passes the time in.
 *
 * @module
 */
import { printable } from "../text.ts";
import type { CheckResult } from "../check/result.ts";
import { keyMapGet } from "./key_map.ts";
import { comparator, positionOf, type Sort, SORTS } from "./order.ts";
import { changedSites, type SiteState } from "./site.ts";
import {
  type Arrangement,
  atTime,
  EMPTY_TABLE,
  refiltered,
  resorted,
  type Table,
  withSites,
} from "./table.ts";

/** The connection to the broker, as the footer tells it. */
export type Connection =
  | { readonly state: "connecting" }
  | { readonly state: "connected" }
  | { readonly state: "failed"; readonly message: string; readonly retryInMs: number };

/** Everything the view needs. */
export interface WatchState {
  /** Only checks newer than this many milliseconds count for p95 and uptime. */
  readonly windowMs: number;
  /** Only results from these regions are kept; from every region when empty (`--region`). */
  readonly regions: readonly string[];
  /** The time the rows are in order for: which are stale, how old each check is. */
  readonly nowMs: number;
  /** The rows as results arrive. */
  readonly live: Table;
  /** While paused, the view shows this frozen copy of the rows; results still arrive. */
  readonly frozen: Table | null;
  readonly sort: Sort;
  /** Rows whose site id or name contains it (case-insensitive). */
  readonly filter: string;
  /** True while `/` is collecting the filter text. */
  readonly editingFilter: boolean;
  /** The selected row's key (`siteId@region`). */
  readonly selected: string | null;
  /** True while the detail pane of the selected row is open. */
  readonly detail: boolean;
  readonly connection: Connection;
  /** Results received per second, over the last few seconds. */
  readonly messagesPerSecond: number;
  /** Messages on the topic not read yet, summed over partitions. */
  readonly lag: number;
  /** Messages that were not readable check results. */
  readonly unreadable: number;
  /** The alerter's incidents open now, oldest first (from the database, when watch has one). */
  readonly incidents: readonly OpenIncident[];
}

/** An incident open now, as `monitor alert` recorded it. */
export interface OpenIncident {
  readonly siteName: string;
  readonly kind: "down" | "degraded" | "stale";
  readonly regions: readonly string[];
  readonly openedAtMs: number;
}

/** What can happen. */
export type WatchEvent =
  | { readonly type: "results"; readonly results: readonly CheckResult[] }
  | { readonly type: "unreadable"; readonly count: number }
  | { readonly type: "rate"; readonly messagesPerSecond: number; readonly lag: number }
  | { readonly type: "connection"; readonly connection: Connection }
  | { readonly type: "incidents"; readonly incidents: readonly OpenIncident[] }
  | { readonly type: "tick"; readonly nowMs: number }
  | {
    readonly type: "key";
    readonly input: string;
    readonly key: Keys;
    /** How many rows the screen shows: how far Page Up and Page Down move. */
    readonly page: number;
  };

/** The keys `useInput` reports that the watch reacts to. */
export interface Keys {
  readonly upArrow?: boolean;
  readonly downArrow?: boolean;
  readonly pageUp?: boolean;
  readonly pageDown?: boolean;
  readonly home?: boolean;
  readonly end?: boolean;
  readonly return?: boolean;
  readonly escape?: boolean;
  readonly backspace?: boolean;
  readonly delete?: boolean;
  readonly ctrl?: boolean;
}

/** Options of {@link initialState}. */
export interface InitialOptions {
  /** The time at start; ticks move it on. */
  readonly nowMs?: number;
  /** Keep only results from these regions; every region when empty or unset. */
  readonly regions?: readonly string[];
}

/**
 * The state before anything arrived.
 *
 * @param windowMs The window of p95 and uptime (and of the backfill).
 * @param options The time at start and the regions to keep.
 * @returns The state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialState } from "./state.ts";
 * assert.equal(initialState(15 * 60_000).sort, "status");
 * ```
 */
export function initialState(windowMs: number, options: InitialOptions = {}): WatchState {
  return {
    windowMs,
    regions: options.regions ?? [],
    nowMs: options.nowMs ?? 0,
    live: EMPTY_TABLE,
    frozen: null,
    sort: "status",
    filter: "",
    editingFilter: false,
    selected: null,
    detail: false,
    connection: { state: "connecting" },
    messagesPerSecond: 0,
    lag: 0,
    unreadable: 0,
    incidents: [],
  };
}

/**
 * Whether results from `region` are kept.
 *
 * @param regions The regions asked for (`--region`); every region when empty.
 * @param region A result's region.
 * @returns True when the result is kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keepsRegion } from "./state.ts";
 * assert.ok(keepsRegion([], "eu"));
 * assert.ok(!keepsRegion(["us"], "eu"));
 * ```
 */
export function keepsRegion(regions: readonly string[], region: string): boolean {
  return regions.length === 0 || regions.includes(region);
}

/**
 * Applies an event.
 *
 * @param state The current state.
 * @param event What happened.
 * @returns The next state (the same object when nothing changed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialState, reduce } from "./state.ts";
 * const state = reduce(initialState(60_000), { type: "key", input: "s", key: {}, page: 20 });
 * assert.equal(state.sort, "name");
 * ```
 */
export function reduce(state: WatchState, event: WatchEvent): WatchState {
  switch (event.type) {
    case "results": {
      const kept = state.regions.length === 0
        ? event.results
        : event.results.filter((r) => keepsRegion(state.regions, r.region));
      const live = withSites(state.live, changedSites(state.live.sites, kept), state);
      // A batch of checks held already (delivered again) must not redraw the screen either.
      return live === state.live ? state : { ...state, live };
    }
    case "unreadable":
      return { ...state, unreadable: state.unreadable + event.count };
    case "incidents":
      return { ...state, incidents: event.incidents };
    case "rate":
      // Sent ten times a second: an unchanged rate must not redraw the screen.
      return event.messagesPerSecond === state.messagesPerSecond && event.lag === state.lag
        ? state
        : { ...state, messagesPerSecond: event.messagesPerSecond, lag: event.lag };
    case "connection":
      return { ...state, connection: event.connection };
    case "tick":
      return event.nowMs === state.nowMs ? state : rearranged(state, { nowMs: event.nowMs });
    case "key":
      return onKey(state, event.input, event.key, event.page);
  }
}

/** The state with a new sort, filter or time, each table put in order for it. */
function rearranged(state: WatchState, change: Partial<Arrangement>): WatchState {
  const next = { ...state, ...change };
  const rearrange = (table: Table) =>
    next.sort !== state.sort
      ? resorted(table, next)
      : next.filter !== state.filter
      ? refiltered(table, next)
      : atTime(table, state.nowMs, next);
  return {
    ...next,
    live: rearrange(state.live),
    frozen: state.frozen === null ? null : rearrange(state.frozen),
  };
}

function onKey(state: WatchState, input: string, key: Keys, page: number): WatchState {
  if (state.editingFilter) {
    if (key.return || key.escape) return { ...state, editingFilter: false };
    if (key.backspace || key.delete) {
      return rearranged(state, { filter: state.filter.slice(0, -1) });
    }
    // (Pasted text reaches here too: no control characters on the filter line.)
    if (input !== "" && !key.ctrl) {
      return rearranged(state, { filter: state.filter + printable(input) });
    }
    return state;
  }
  if (state.detail) {
    return key.return || key.escape || input === "q" ? { ...state, detail: false } : state;
  }
  const step = key.upArrow
    ? -1
    : key.downArrow
    ? 1
    : key.pageUp
    ? -Math.max(1, page)
    : key.pageDown
    ? Math.max(1, page)
    : key.home
    ? -Infinity
    : key.end
    ? Infinity
    : 0;
  if (step !== 0) return moved(state, step);
  if (key.return) return state.selected === null ? state : { ...state, detail: true };
  if (key.escape) return state.filter === "" ? state : rearranged(state, { filter: "" });
  switch (input) {
    case "/":
      return { ...rearranged(state, { filter: "" }), editingFilter: true };
    case "s":
      return rearranged(state, { sort: SORTS[(SORTS.indexOf(state.sort) + 1) % SORTS.length]! });
    case "p":
      return { ...state, frozen: state.frozen === null ? state.live : null };
    default:
      return state;
  }
}

/** The selection moved `step` rows through the rows on screen (from before the first when none). */
function moved(state: WatchState, step: number): WatchState {
  const { shown } = displayed(state);
  if (shown.length === 0) return state;
  const at = selectedIndex(state);
  const next = Math.min(shown.length - 1, Math.max(0, at + step));
  return { ...state, selected: shown[next]!.key };
}

/**
 * The table the view shows: the frozen one while paused, the live one otherwise.
 *
 * @param state The state.
 * @returns The table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { displayed, initialState } from "./state.ts";
 * assert.equal(displayed(initialState(60_000)).shown.length, 0);
 * ```
 */
export function displayed(state: WatchState): Table {
  return state.frozen ?? state.live;
}

/**
 * The selected row's site, as the view shows it.
 *
 * @param state The state.
 * @returns The site, or undefined when no row is selected.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialState, selectedSite } from "./state.ts";
 * assert.equal(selectedSite(initialState(60_000)), undefined);
 * ```
 */
export function selectedSite(state: WatchState): SiteState | undefined {
  if (state.selected === null) return undefined;
  // `siteId@region`: a region has no "@".
  const at = state.selected.lastIndexOf("@");
  return keyMapGet(
    displayed(state).sites,
    state.selected.slice(0, at),
    state.selected.slice(at + 1),
  );
}

/**
 * Where the selected row is among the rows the filter lets through, by binary search.
 *
 * @param state The state.
 * @returns Its index, or -1 when no row is selected or the filter hides it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialState, selectedIndex } from "./state.ts";
 * assert.equal(selectedIndex(initialState(60_000)), -1);
 * ```
 */
export function selectedIndex(state: WatchState): number {
  const site = selectedSite(state);
  if (site === undefined) return -1;
  return positionOf(displayed(state).shown, site, comparator(state.sort, state.nowMs));
}
