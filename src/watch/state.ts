/**
 * The state of `monitor watch`, as a reducer: results arrive in batches (the source gathers them
 * for up to 100 ms, which also bounds how often the screen is drawn), a tick moves the clock on,
 * keys change the selection, filter, sort and pause. The rows are changed in place, each once per
 * batch however many of its checks it brings, and kept in order as they change (`table.ts`), so
 * that a frame costs what changed and what is on screen. The terminal shell passes the time in.
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
  comparator,
  emptyTable,
  frozenCopy,
  positionOf,
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
  /** The rows as results arrive. */
  readonly live: Table;
  /** While paused, the view shows this copy of the rows; results still arrive. */
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
    readonly key: Keys;
    /** How many rows the screen shows: how far Page Up and Page Down move. */
    readonly page: number;
  };

/** The keys `useInput` reports (tests give only some). */
export type Keys = Partial<Key>;

/**
 * The state before anything arrived.
 *
 * @param windowMs The window of p95 and uptime (and of the backfill).
 * @param options The time at start, and the regions to keep (every region when none).
 */
export function initialState(
  windowMs: number,
  options: { readonly nowMs?: number; readonly regions?: readonly string[] } = {},
): WatchState {
  return {
    windowMs,
    regions: options.regions ?? [],
    nowMs: options.nowMs ?? 0,
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
 * Applies an event. The rows of `state.live` change in place; the state is a new object whenever
 * the screen would change.
 *
 * @returns The next state (the same object when nothing changed).
 */
export function reduce(state: WatchState, event: WatchEvent): WatchState {
  switch (event.type) {
    case "results":
      // A batch of checks held already (delivered again) must not redraw the screen.
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
      return onKey(state, event.input, event.key, event.page);
  }
}

/** The state with a new sort, filter or time, each table put in order for it. */
function rearranged(state: WatchState, change: Partial<Arrangement>): WatchState {
  const next = { ...state, ...change };
  rearrange(state.live, state, next);
  if (state.frozen !== null) rearrange(state.frozen, state, next);
  return next;
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
  const screen = Math.max(1, page);
  const steps = { upArrow: -1, downArrow: 1, pageUp: -screen, pageDown: screen, home: -Infinity };
  const step = Object.entries({ ...steps, end: Infinity }).find(([name]) =>
    key[name as keyof Keys]
  );
  if (step !== undefined) return moved(state, step[1]);
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
  const at = selectedIndex(state);
  const next = Math.min(shown.length - 1, Math.max(0, at + step));
  return { ...state, selected: shown[next]!.key };
}

/** @returns The table the view shows: the frozen one while paused, the live one otherwise. */
export function displayed(state: WatchState): Table {
  return state.frozen ?? state.live;
}

/** @returns The selected row's site as the view shows it; undefined when none is selected. */
export function selectedSite(state: WatchState): SiteState | undefined {
  if (state.selected === null) return undefined;
  // `siteId@region`: a region has no "@".
  const at = state.selected.lastIndexOf("@");
  return siteAt(displayed(state), state.selected.slice(0, at), state.selected.slice(at + 1));
}

/** @returns The selected row's index among the rows shown; -1 when none is, or it is hidden. */
export function selectedIndex(state: WatchState): number {
  const site = selectedSite(state);
  if (site === undefined) return -1;
  return positionOf(displayed(state).shown, site, comparator(state.sort, state.nowMs));
}
