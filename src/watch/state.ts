/**
 * The state of `monitor watch`, as a reducer of results, ticks and keys. The rows change in place
 * and stay in order (`table.ts`), so that a frame costs what changed and what is on screen.
 *
 * @module
 */
import type { Key } from "ink";
import { printable } from "../text.ts";
import type { CheckResult } from "../check/result.ts";
import type { SiteState } from "./site.ts";
import {
  addResults,
  type Arrangement,
  emptyTable,
  frozenCopy,
  rearrange,
  siteAt,
  type Sort,
  SORTS,
  type Table,
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
  /** The time the rows are in order for. */
  readonly nowMs: number;
  readonly live: Table;
  /** While paused, the view shows this copy of the rows; results still arrive. */
  readonly frozen: Table | null;
  readonly sort: Sort;
  readonly filter: string;
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
  /** Results, decoded as they are applied (each then garbage at once), in one pass. */
  | { readonly type: "results"; readonly results: Iterable<CheckResult> }
  | { readonly type: "unreadable"; readonly count: number }
  | { readonly type: "rate"; readonly messagesPerSecond: number; readonly lag: number }
  | { readonly type: "connection"; readonly connection: Connection }
  | { readonly type: "incidents"; readonly incidents: readonly OpenIncident[] }
  | { readonly type: "tick"; readonly nowMs: number }
  | {
    readonly type: "key";
    readonly input: string;
    /** The keys `useInput` reports (tests give only some). */
    readonly key: Partial<Key>;
    /** How many rows the screen shows: how far Page Up and Page Down move. */
    readonly page: number;
  };

/** The state before anything arrived, at `options.nowMs` (0 unless given). */
export function initialState(
  windowMs: number,
  options: Partial<Pick<WatchState, "nowMs" | "regions">> = {},
): WatchState {
  return {
    windowMs,
    regions: [],
    nowMs: 0,
    ...options,
    live: emptyTable(),
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
 * Applies an event: the rows of `state.live` change in place, and the state is a new object
 * whenever the screen would change (the same object otherwise).
 */
export function reduce(state: WatchState, event: WatchEvent): WatchState {
  switch (event.type) {
    case "results":
      return addResults(state.live, event.results, state) ? { ...state } : state;
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
      return onKey(state, event);
  }
}

/** The state with a new sort, filter or time, each table put in order for it. */
function rearranged(state: WatchState, change: Partial<Arrangement>): WatchState {
  const next = { ...state, ...change };
  rearrange(state.live, state, next);
  if (state.frozen !== null) rearrange(state.frozen, state, next);
  return next;
}

function onKey(
  state: WatchState,
  { input, key, page }: Extract<WatchEvent, { type: "key" }>,
): WatchState {
  if (state.editingFilter) {
    if (key.return || key.escape) return { ...state, editingFilter: false };
    if (key.backspace || key.delete) {
      return rearranged(state, { filter: state.filter.slice(0, -1) });
    }
    // Pasted text arrives here too: no control characters on the filter line.
    if (input !== "" && !key.ctrl) {
      return rearranged(state, { filter: state.filter + printable(input) });
    }
    return state;
  }
  if (state.detail) {
    return key.return || key.escape || input === "q" ? { ...state, detail: false } : state;
  }
  const screen = Math.max(1, page);
  if (key.upArrow) return moved(state, -1);
  if (key.downArrow) return moved(state, 1);
  if (key.pageUp) return moved(state, -screen);
  if (key.pageDown) return moved(state, screen);
  if (key.home) return moved(state, -Infinity);
  if (key.end) return moved(state, Infinity);
  if (key.return) return state.selected === null ? state : { ...state, detail: true };
  if (key.escape) return state.filter === "" ? state : rearranged(state, { filter: "" });
  switch (input) {
    case "/":
      return { ...rearranged(state, { filter: "" }), editingFilter: true };
    case "s":
      return rearranged(state, { sort: SORTS[(SORTS.indexOf(state.sort) + 1) % SORTS.length]! });
    case "p":
      return { ...state, frozen: state.frozen === null ? frozenCopy(state.live) : null };
    default:
      return state;
  }
}

/** The selection moved `step` rows through the rows on screen (from before the first when none). */
function moved(state: WatchState, step: number): WatchState {
  const { shown } = displayed(state);
  if (shown.length === 0) return state;
  const next = Math.min(shown.length - 1, Math.max(0, selectedIndex(state) + step));
  return { ...state, selected: shown[next]!.key };
}

/** @returns The table the view shows: the frozen one while paused, the live one otherwise. */
export function displayed(state: WatchState): Table {
  return state.frozen ?? state.live;
}

/** @returns The selected row's site as the view shows it; undefined when none is selected. */
export function selectedSite(state: WatchState): SiteState | undefined {
  if (state.selected === null) return undefined;
  const at = state.selected.lastIndexOf("@"); // a region has no "@"
  return siteAt(displayed(state), state.selected.slice(0, at), state.selected.slice(at + 1));
}

/** @returns The selected row's index among the rows shown; -1 when none is, or it is hidden. */
export function selectedIndex(state: WatchState): number {
  const site = selectedSite(state);
  return site === undefined ? -1 : displayed(state).shown.indexOf(site);
}
