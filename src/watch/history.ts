/**
 * The recent checks of one row of `monitor watch`, kept compact: what the screen shows of a check
 * in four 32-bit words — its time (to the second, as the pane shows it), its response time (in
 * tenths of a millisecond, as the table shows it), a digest of its id (to tell a check delivered
 * again from a new one) and its status code, pattern and error — and each error message once. 120
 * checks of each of 30 000 rows take some 70 MiB this way, where an object per check took over a
 * gigabyte.
 *
 * The state of the watch is never changed, only copied (and `p` keeps an old copy on screen), so
 * the words are shared between the versions of a row: a version sees its own range of them, only
 * the newest version may write after that range, and any other change copies the range. Appending
 * a check is then a write, and a row's words are copied once every few dozen checks.
 *
 * @module
 */
import { type CheckResult, ERROR_KINDS } from "../check/result.ts";
import { printable } from "../text.ts";

/** How many recent checks of a row are kept (for the sparkline, the window figures, the pane). */
export const RECENT_CHECKS = 120;

/** Most checks the words of a row hold: room to append 24 before they are copied. */
const CAPACITY = RECENT_CHECKS + 24;

/** Longest error message kept: longer than a line of the detail pane on any terminal. */
const MESSAGE_LENGTH = 300;

/** One recent check, as the screen shows it. */
export interface RecentCheck {
  /** To the second. */
  readonly checkedAtMs: number;
  readonly up: boolean;
  readonly statusCode: number | null;
  /** To a tenth of a millisecond. */
  readonly responseTimeMs: number | null;
  readonly patternMatched: boolean | null;
  readonly errorKind: string | null;
  readonly errorMessage: string | null;
}

/** What a row's versions share. */
interface Store {
  /** Four a check: {@link SECONDS}, {@link TENTHS}, {@link DIGEST}, {@link FIELDS}. */
  readonly words: Uint32Array;
  /** The failures' messages, each once; a check's fields hold its index + 1 (0: none). */
  messages: string[] | undefined;
  /** How many checks are written: only the version that ends there may append. */
  written: number;
}

/** Where in a check's words: its time in seconds since the epoch. */
const SECONDS = 0;
/** Its response time in tenths of a millisecond, {@link NO_TIME} where it had none. */
const TENTHS = 1;
/** FNV-1a of its id. */
const DIGEST = 2;
/** Its other fields (see {@link pack}). */
const FIELDS = 3;

/** A response time not recorded. */
const NO_TIME = 0xffffffff;

/** A row's recent checks: checks `start` to `end` (excluded) of its store, oldest first. */
export interface History {
  readonly store: Store;
  readonly start: number;
  readonly end: number;
}

/** A row before its first check. */
export const EMPTY_HISTORY: History = { store: newStore(0), start: 0, end: 0 };

function newStore(capacity: number): Store {
  return { words: new Uint32Array(4 * capacity), messages: undefined, written: 0 };
}

/** A check's word `what`. */
function word(history: History, index: number, what: number): number {
  return history.store.words[4 * ((index < 0 ? history.end : history.start) + index) + what]!;
}

/**
 * A check's fields but its time, response time and id, in 25 bits: the status code (10), whether
 * it was up (1), the pattern (2: none, matched, missing), the error kind + 1 (4) and the message's
 * index + 1 (a store holds at most {@link CAPACITY} checks, so at most as many messages).
 */
function pack(result: CheckResult, message: number): number {
  const pattern = result.patternMatched === null ? 0 : result.patternMatched ? 1 : 2;
  const kind = result.error === null ? 0 : ERROR_KINDS.indexOf(result.error.kind) + 1;
  return (result.statusCode ?? 0) | (result.up ? 1 << 10 : 0) | (pattern << 11) | (kind << 13) |
    (message << 17);
}

/**
 * How many checks a history holds.
 *
 * @param history The history.
 * @returns Its length, at most {@link RECENT_CHECKS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EMPTY_HISTORY, historyLength } from "./history.ts";
 * assert.equal(historyLength(EMPTY_HISTORY), 0);
 * ```
 */
export function historyLength(history: History): number {
  return history.end - history.start;
}

/**
 * One check of a history.
 *
 * @param history The history.
 * @param index 0 for the oldest; negative counts from the newest (-1).
 * @returns The check.
 *
 * @example
 * ```ts ignore
 * const newest = checkAt(site.recent, -1);
 * ```
 */
export function checkAt(history: History, index: number): RecentCheck {
  const fields = word(history, index, FIELDS);
  const pattern = (fields >> 11) & 3;
  const kind = (fields >> 13) & 15;
  const message = fields >>> 17;
  return {
    checkedAtMs: checkedAtMsOf(history, index),
    up: (fields & (1 << 10)) !== 0,
    statusCode: (fields & 1023) || null,
    responseTimeMs: responseTimeMsOf(history, index),
    patternMatched: pattern === 0 ? null : pattern === 1,
    errorKind: kind === 0 ? null : ERROR_KINDS[kind - 1]!,
    errorMessage: kind === 0 ? null : message === 0 ? "" : history.store.messages![message - 1]!,
  };
}

/**
 * Every check of a history, oldest first.
 *
 * @param history The history.
 * @returns The checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EMPTY_HISTORY, recentChecks } from "./history.ts";
 * assert.deepEqual(recentChecks(EMPTY_HISTORY), []);
 * ```
 */
export function recentChecks(history: History): RecentCheck[] {
  return Array.from({ length: historyLength(history) }, (_, i) => checkAt(history, i));
}

/**
 * The time of one check, without making the check.
 *
 * @param history The history.
 * @param index As for {@link checkAt}.
 * @returns Milliseconds since the epoch.
 *
 * @example
 * ```ts ignore
 * const newestMs = checkedAtMsOf(site.recent, -1);
 * ```
 */
export function checkedAtMsOf(history: History, index: number): number {
  return word(history, index, SECONDS) * 1000;
}

/**
 * Whether one check was up, without making the check.
 *
 * @param history The history.
 * @param index As for {@link checkAt}.
 * @returns True when it was.
 *
 * @example
 * ```ts ignore
 * const newestUp = upOf(site.recent, -1);
 * ```
 */
export function upOf(history: History, index: number): boolean {
  return (word(history, index, FIELDS) & (1 << 10)) !== 0;
}

/**
 * The response time of one check, without making the check.
 *
 * @param history The history.
 * @param index As for {@link checkAt}.
 * @returns Milliseconds, or null when it had none.
 *
 * @example
 * ```ts ignore
 * const latencyMs = responseTimeMsOf(site.recent, -1);
 * ```
 */
export function responseTimeMsOf(history: History, index: number): number | null {
  const tenths = word(history, index, TENTHS);
  return tenths === NO_TIME ? null : tenths / 10;
}

/**
 * The history with one more check, in time order (a check delivered again counts once).
 *
 * @param history The history.
 * @param result The check.
 * @param checkedAtMs Its time, parsed (kept to the second).
 * @returns The new history; undefined when the history holds the check already, or it is older
 *   than every check of a full history (it would drop out).
 *
 * @example
 * ```ts ignore
 * const added = withCheck(site.recent, result, Date.parse(result.checkedAt));
 * ```
 */
export function withCheck(
  history: History,
  result: CheckResult,
  checkedAtMs: number,
): History | undefined {
  const { store, start, end } = history;
  const { words } = store;
  // (A checker whose clock is past 2106 is kept at 2106: its checks still come in order.)
  const seconds = Math.min(Math.floor(checkedAtMs / 1000), 0xffffffff);
  const digest = digestOf(result.checkId);
  // Results of one site and region arrive in order (one partition, one checker): a short walk.
  let at = end;
  while (at > start && words[4 * (at - 1) + SECONDS]! > seconds) at--;
  for (let i = at - 1; i >= start && words[4 * i + SECONDS] === seconds; i--) {
    if (words[4 * i + DIGEST] === digest) return undefined;
  }
  const full = end - start >= RECENT_CHECKS;
  if (at === start && full) return undefined;
  const from = full ? start + 1 : start;
  let next: History;
  if (at === end && end === store.written && 4 * end < words.length) {
    next = { store, start: from, end: end + 1 };
    store.written = end + 1;
  } else {
    // Not the newest version's end, or no room: the checks kept, with a gap for this one.
    const count = end - from + 1;
    const copy = newStore(Math.min(CAPACITY, Math.max(8, 2 * count)));
    copyRange(store, from, at, copy, 0);
    copyRange(store, at, end, copy, at - from + 1);
    copy.written = count;
    next = { store: copy, start: 0, end: count };
    at -= from;
  }
  const into = next.store;
  const ms = result.responseTimeMs;
  into.words[4 * at + SECONDS] = seconds;
  // (Tenths of the longest a check can take, two days, fit in 31 bits.)
  into.words[4 * at + TENTHS] = ms === null ? NO_TIME : Math.round(ms * 10);
  into.words[4 * at + DIGEST] = digest;
  const message = result.error === null ? 0 : indexOf(into, kept(result.error.message));
  into.words[4 * at + FIELDS] = pack(result, message);
  return next;
}

function copyRange(from: Store, start: number, end: number, to: Store, at: number): void {
  to.words.set(from.words.subarray(4 * start, 4 * end), 4 * at);
  if (from.messages === undefined) return;
  // The messages of the checks copied only, each once, and each check's index into them anew.
  for (let i = 4 * at + FIELDS; i < 4 * (at + end - start); i += 4) {
    const message = to.words[i]! >>> 17;
    if (message === 0) continue;
    const index = indexOf(to, from.messages[message - 1]!);
    to.words[i] = (to.words[i]! & 0x1ffff) | (index << 17);
  }
}

/**
 * Where the store holds the message (+ 1), added if it does not yet: a site down for an hour says
 * the same thing 120 times, and holds it once.
 */
function indexOf(store: Store, message: string): number {
  store.messages ??= [];
  const { messages } = store;
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i] === message) return i + 1;
  return messages.push(message);
}

/** A message as kept: printable, and cut to {@link MESSAGE_LENGTH}. */
function kept(text: string): string {
  const shown = printable(text);
  return shown.length <= MESSAGE_LENGTH
    ? shown
    : `${shown.slice(0, MESSAGE_LENGTH - 1).replace(/[\uD800-\uDBFF]$/, "")}…`;
}

/** FNV-1a over the UTF-16 code units. */
function digestOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The interval between checks, as observed: the median gap between the latest few checks (a site
 * whose interval changed soon shows its new one).
 *
 * @param history The history.
 * @returns Milliseconds; null until two checks arrived.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EMPTY_HISTORY, intervalMsOf } from "./history.ts";
 * assert.equal(intervalMsOf(EMPTY_HISTORY), null);
 * ```
 */
export function intervalMsOf(history: History): number | null {
  const count = Math.min(historyLength(history), GAPS + 1) - 1;
  if (count < 1) return null;
  // Sorted as they come, in an array made once (nothing of a call stays in it): this runs for
  // every row a batch changes, 30 000 of them in a backfill's.
  for (let n = 0; n < count; n++) {
    const gap = checkedAtMsOf(history, n - count) - checkedAtMsOf(history, n - count - 1);
    let at = n;
    for (; at > 0 && gaps[at - 1]! > gap; at--) gaps[at] = gaps[at - 1]!;
    gaps[at] = gap;
  }
  return gaps[count >> 1]!;
}

/** How many of the latest gaps between checks tell the interval. */
const GAPS = 8;
const gaps = new Float64Array(GAPS);
