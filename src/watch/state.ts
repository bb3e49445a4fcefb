/**
 * The state of `monitor watch`, as a pure reducer: results arrive in batches (the source gathers
 * them for up to 100 ms, which also bounds how often the screen is drawn), keys change the
 * selection, filter, sort and pause, and {@link rowsOf} derives what each site's row shows at a
 * given time. A check counts once however often it arrives (by its `checkId`): the source rewinds
 * to the backfill window whenever it reconnects. No clock, no I/O: the terminal shell passes `now`
 * in.
 *
 * @module
 */
import { type CheckResult, NO_CONNECTION_DETAILS } from "../check/result.ts";
import { printable } from "../text.ts";

/** How many recent checks of a site are kept (for the sparkline, the window figures, the pane). */
export const RECENT_CHECKS = 120;

/** What is kept of one check. */
export interface RecentCheck {
  /** Unique per check: what tells a check delivered again from a new one, and the view's key. */
  readonly checkId: string;
  readonly checkedAtMs: number;
  readonly up: boolean;
  readonly statusCode: number | null;
  readonly responseTimeMs: number | null;
  readonly patternMatched: boolean | null;
  readonly errorKind: string | null;
  readonly errorMessage: string | null;
}

/**
 * What a check saw of the connection: each phase's time, the address and HTTP version, the TLS
 * version and the certificate. Null where the check did not get that far, and everywhere for a
 * version 1 message (except the certificate's expiry).
 */
export type ConnectionDetails = Readonly<
  Pick<CheckResult, keyof typeof NO_CONNECTION_DETAILS | "certExpiresAt">
>;

/** A site as seen on the topic. */
export interface SiteState {
  readonly siteId: string;
  readonly siteName: string;
  readonly url: string;
  /**
   * Of the newest check only, for the detail pane: a certificate may carry a hundred names of a
   * thousand characters each, too much to keep for every recent check of every site.
   */
  readonly details: ConnectionDetails;
  /** Oldest first, at most {@link RECENT_CHECKS}, each check once. */
  readonly recent: readonly RecentCheck[];
  /** The ids of exactly the checks in `recent`, so that a check delivered again is found at once. */
  readonly checkIds: ReadonlySet<string>;
}

/** How rows are ordered; `s` cycles through them. */
export const SORTS = ["status", "name", "latency"] as const;
/** One of {@link SORTS}. */
export type Sort = typeof SORTS[number];

/** The connection to the broker, as the footer tells it. */
export type Connection =
  | { readonly state: "connecting" }
  | { readonly state: "connected" }
  | { readonly state: "failed"; readonly message: string; readonly retryInMs: number };

/** Everything the view needs. */
export interface WatchState {
  readonly sites: ReadonlyMap<string, SiteState>;
  /** Only checks newer than this many milliseconds count for p95 and uptime. */
  readonly windowMs: number;
  readonly sort: Sort;
  /** Sites whose id or name contains it (case-insensitive). */
  readonly filter: string;
  /** True while `/` is collecting the filter text. */
  readonly editingFilter: boolean;
  /** The selected site's id. */
  readonly selected: string | null;
  /** True while the detail pane of the selected site is open. */
  readonly detail: boolean;
  /** While paused, the view shows this frozen copy of the sites; results still arrive. */
  readonly frozen: ReadonlyMap<string, SiteState> | null;
  readonly connection: Connection;
  /** Results received per second, over the last few seconds. */
  readonly messagesPerSecond: number;
  /** Messages on the topic not read yet, summed over partitions. */
  readonly lag: number;
  /** Messages that were not readable check results. */
  readonly unreadable: number;
}

/** What can happen. */
export type WatchEvent =
  | { readonly type: "results"; readonly results: readonly CheckResult[] }
  | { readonly type: "unreadable"; readonly count: number }
  | { readonly type: "rate"; readonly messagesPerSecond: number; readonly lag: number }
  | { readonly type: "connection"; readonly connection: Connection }
  | {
    readonly type: "key";
    readonly input: string;
    readonly key: Keys;
    readonly visible: string[];
  };

/** The keys `useInput` reports that the watch reacts to. */
export interface Keys {
  readonly upArrow?: boolean;
  readonly downArrow?: boolean;
  readonly return?: boolean;
  readonly escape?: boolean;
  readonly backspace?: boolean;
  readonly delete?: boolean;
  readonly ctrl?: boolean;
}

/**
 * The state before anything arrived.
 *
 * @param windowMs The window of p95 and uptime (and of the backfill).
 * @returns The state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialState } from "./state.ts";
 * assert.equal(initialState(15 * 60_000).sort, "status");
 * ```
 */
export function initialState(windowMs: number): WatchState {
  return {
    sites: new Map(),
    windowMs,
    sort: "status",
    filter: "",
    editingFilter: false,
    selected: null,
    detail: false,
    frozen: null,
    connection: { state: "connecting" },
    messagesPerSecond: 0,
    lag: 0,
    unreadable: 0,
  };
}

/**
 * Applies an event.
 *
 * @param state The current state.
 * @param event What happened; a `key` event carries the ids of the rows on screen, in order, so
 *   that ↑/↓ move through what the user sees.
 * @returns The next state (the same object when nothing changed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialState, reduce } from "./state.ts";
 * const state = reduce(initialState(60_000), { type: "key", input: "s", key: {}, visible: [] });
 * assert.equal(state.sort, "name");
 * ```
 */
export function reduce(state: WatchState, event: WatchEvent): WatchState {
  switch (event.type) {
    case "results": {
      // A batch of checks held already (a replayed backfill) must not redraw the screen either.
      const sites = withResults(state.sites, event.results);
      return sites === state.sites ? state : { ...state, sites };
    }
    case "unreadable":
      return { ...state, unreadable: state.unreadable + event.count };
    case "rate":
      // Sent ten times a second: an unchanged rate must not redraw the screen.
      return event.messagesPerSecond === state.messagesPerSecond && event.lag === state.lag
        ? state
        : { ...state, messagesPerSecond: event.messagesPerSecond, lag: event.lag };
    case "connection":
      return { ...state, connection: event.connection };
    case "key":
      return onKey(state, event.input, event.key, event.visible);
  }
}

function withResults(
  sites: ReadonlyMap<string, SiteState>,
  results: readonly CheckResult[],
): ReadonlyMap<string, SiteState> {
  // A site the batch changes is copied once and then changed in place: a backfill brings thousands
  // of results of the same sites at once. The sites it does not change stay the same objects.
  const changed = new Map<string, MutableSite>();
  for (const result of results) {
    // Text from any producer reaches the screen: no control characters. The id as shown is the
    // key, so that selecting a row finds its site.
    const siteId = printable(result.siteId);
    const site = changed.get(siteId) ?? sites.get(siteId);
    // After a reconnect the source rewinds to the start of the backfill window, and Kafka delivers
    // at least once: a check held already must not count twice.
    if (site?.checkIds.has(result.checkId)) continue;
    const checkedAtMs = Date.parse(result.checkedAt);
    // Results of one site arrive in order (one partition), so this walk is short.
    const recent = site?.recent ?? [];
    let at = recent.length;
    while (at > 0 && recent[at - 1]!.checkedAtMs > checkedAtMs) at--;
    // Older than every check of a full window: it would be dropped at once.
    if (at === 0 && recent.length >= RECENT_CHECKS) continue;
    const newest = at === recent.length;
    const mutable = changed.get(siteId) ?? copyOf(site, siteId);
    changed.set(siteId, mutable);
    mutable.recent.splice(at, 0, recentCheck(result, checkedAtMs));
    mutable.checkIds.add(result.checkId);
    for (const dropped of mutable.recent.splice(0, mutable.recent.length - RECENT_CHECKS)) {
      mutable.checkIds.delete(dropped.checkId);
    }
    // The site as its latest check names it (a replay of older checks does not rename it back).
    if (newest) {
      mutable.siteName = printable(result.siteName);
      mutable.url = printable(result.url);
      mutable.details = detailsOf(result);
    }
  }
  if (changed.size === 0) return sites;
  const next = new Map(sites);
  for (const [siteId, site] of changed) next.set(siteId, site);
  return next;
}

/** A {@link SiteState} while one batch is applied to it. */
interface MutableSite {
  readonly siteId: string;
  siteName: string;
  url: string;
  details: ConnectionDetails;
  readonly recent: RecentCheck[];
  readonly checkIds: Set<string>;
}

function copyOf(site: SiteState | undefined, siteId: string): MutableSite {
  return {
    siteId,
    siteName: site?.siteName ?? "",
    url: site?.url ?? "",
    details: site?.details ?? NO_DETAILS,
    recent: [...site?.recent ?? []],
    checkIds: new Set(site?.checkIds),
  };
}

const NO_DETAILS: ConnectionDetails = { ...NO_CONNECTION_DETAILS, certExpiresAt: null };

function detailsOf(result: CheckResult): ConnectionDetails {
  // The certificate's names come from whatever server answered: no control characters either.
  const text = (value: string | null) => value === null ? null : printable(value);
  return {
    dnsMs: result.dnsMs,
    connectMs: result.connectMs,
    tlsMs: result.tlsMs,
    firstByteMs: result.firstByteMs,
    transferMs: result.transferMs,
    remoteAddress: text(result.remoteAddress),
    httpVersion: text(result.httpVersion),
    tlsVersion: text(result.tlsVersion),
    certSubject: text(result.certSubject),
    certIssuer: text(result.certIssuer),
    certAltNames: result.certAltNames?.map(printable) ?? null,
    certExpiresAt: result.certExpiresAt,
  };
}

function recentCheck(result: CheckResult, checkedAtMs: number): RecentCheck {
  return {
    checkId: result.checkId,
    checkedAtMs,
    up: result.up,
    statusCode: result.statusCode,
    responseTimeMs: result.responseTimeMs,
    patternMatched: result.patternMatched,
    errorKind: result.error?.kind ?? null,
    errorMessage: result.error === null ? null : printable(result.error.message),
  };
}

function onKey(state: WatchState, input: string, key: Keys, visible: string[]): WatchState {
  if (state.editingFilter) {
    if (key.return || key.escape) return { ...state, editingFilter: false };
    if (key.backspace || key.delete) return { ...state, filter: state.filter.slice(0, -1) };
    if (input !== "" && !key.ctrl) return { ...state, filter: state.filter + input };
    return state;
  }
  if (state.detail) {
    return key.return || key.escape || input === "q" ? { ...state, detail: false } : state;
  }
  if (key.upArrow || key.downArrow) {
    if (visible.length === 0) return state;
    const at = state.selected === null ? -1 : visible.indexOf(state.selected);
    const next = key.upArrow ? Math.max(0, at - 1) : Math.min(visible.length - 1, at + 1);
    return { ...state, selected: visible[next]! };
  }
  if (key.return) return state.selected === null ? state : { ...state, detail: true };
  if (key.escape) return { ...state, filter: "" };
  switch (input) {
    case "/":
      return { ...state, editingFilter: true, filter: "" };
    case "s":
      return { ...state, sort: SORTS[(SORTS.indexOf(state.sort) + 1) % SORTS.length]! };
    case "p":
      return { ...state, frozen: state.frozen === null ? state.sites : null };
    default:
      return state;
  }
}

/** How a site stands. */
export type Status = "up" | "down" | "degraded" | "stale";

/** One row of the table, derived. */
export interface Row {
  readonly siteId: string;
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

/** How many of the latest checks a failure makes an up site count as degraded. */
const DEGRADED_WITHIN = 5;

/**
 * The rows to show at `nowMs`, filtered and sorted.
 *
 * A site is `down` when its latest check failed; `degraded` when it is up but one of its last
 * {@link DEGRADED_WITHIN} checks failed; `stale` when no result came for twice its interval (the
 * median gap between its checks); `up` otherwise.
 *
 * @param state The state.
 * @param nowMs The current time.
 * @returns The rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialState, rowsOf } from "./state.ts";
 * assert.deepEqual(rowsOf(initialState(60_000), Date.now()), []);
 * ```
 */
export function rowsOf(state: WatchState, nowMs: number): Row[] {
  const sites = state.frozen ?? state.sites;
  const needle = state.filter.toLowerCase();
  const rows: Row[] = [];
  for (const site of sites.values()) {
    if (
      needle !== "" && !site.siteId.toLowerCase().includes(needle) &&
      !site.siteName.toLowerCase().includes(needle)
    ) continue;
    rows.push(rowOf(site, state.windowMs, nowMs));
  }
  return rows.sort(ORDER[state.sort]);
}

function rowOf(site: SiteState, windowMs: number, nowMs: number): Row {
  const last = site.recent.at(-1)!;
  const intervalMs = medianGap(site.recent);
  const ageMs = Math.max(0, nowMs - last.checkedAtMs);
  const inWindow = site.recent.filter((c) => c.checkedAtMs >= nowMs - windowMs);
  const times = inWindow.map((c) => c.responseTimeMs).filter((ms): ms is number => ms !== null);
  let status: Status;
  if (intervalMs !== null && ageMs > 2 * intervalMs) status = "stale";
  else if (!last.up) status = "down";
  else if (site.recent.slice(-DEGRADED_WITHIN).some((c) => !c.up)) status = "degraded";
  else status = "up";
  return {
    siteId: site.siteId,
    siteName: site.siteName,
    status,
    last,
    responseTimes: site.recent.map((c) => c.responseTimeMs),
    p95Ms: times.length === 0 ? null : nearestRank(times, 0.95),
    uptime: inWindow.length === 0 ? (last.up ? 1 : 0) : inWindow.filter((c) => c.up).length /
      inWindow.length,
    ageMs,
    intervalMs,
  };
}

function medianGap(recent: readonly RecentCheck[]): number | null {
  if (recent.length < 2) return null;
  const gaps = recent.slice(1).map((c, i) => c.checkedAtMs - recent[i]!.checkedAtMs).sort((a, b) =>
    a - b
  );
  return gaps[Math.floor(gaps.length / 2)]!;
}

/** The nearest-rank percentile, as `percentile_disc` computes it. */
function nearestRank(values: number[], q: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

const STATUS_ORDER: Record<Status, number> = { down: 0, degraded: 1, stale: 2, up: 3 };
const byName = (a: Row, b: Row) =>
  a.siteName.localeCompare(b.siteName) || a.siteId.localeCompare(b.siteId);
const ORDER: Record<Sort, (a: Row, b: Row) => number> = {
  status: (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || byName(a, b),
  name: byName,
  latency: (a, b) =>
    (b.last.responseTimeMs ?? Infinity) - (a.last.responseTimeMs ?? Infinity) || byName(a, b),
};
