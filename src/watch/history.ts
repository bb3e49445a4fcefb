/**
 * The recent checks of one row of `monitor watch`, four 32-bit words a check, each error message
 * once. Copies (what `p` shows) share the words; writing into another's checks copies first.
 *
 * @module
 */
import { type CheckResult, ERROR_KINDS } from "../check/result.ts";
import { printable } from "../text.ts";

/** How many recent checks of a row are kept (for the sparkline, the window figures, the pane). */
const RECENT_CHECKS = 120;

/** Every store is this size, so that one given back fits the next (sizes fragment the heap). */
const CAPACITY = RECENT_CHECKS + 24;

/** Longest error message kept: longer than a line of the detail pane on any terminal. */
const MESSAGE_LENGTH = 300;

interface Store {
  readonly words: Uint32Array;
  /** The failures' messages, each once; a check's fields hold its index + 1 (0: none). */
  messages: string[] | undefined;
  /** How many checks are written: only the history that ends there may append. */
  written: number;
}

// A check's words.
const SECONDS = 0;
const TENTHS = 1;
const DIGEST = 2;
const FIELDS = 3;
const NO_TIME = 0xffffffff;

/** A row's recent checks: checks `start` to `end` (excluded) of its store, oldest first. */
export interface History {
  store: Store;
  start: number;
  end: number;
}

function newStore(): Store {
  return { words: new Uint32Array(4 * CAPACITY), messages: undefined, written: 0 };
}

/** @returns A history with no checks. */
export function emptyHistory(): History {
  return { store: newStore(), start: 0, end: 0 };
}

/** @returns A copy that keeps its checks whatever is later added to `history`. */
export function copyHistory(history: History): History {
  return { ...history };
}

/** @returns How many checks `history` holds. */
export function historyLength(history: History): number {
  return history.end - history.start;
}

function word(history: History, index: number, what: number): number {
  return history.store.words[4 * ((index < 0 ? history.end : history.start) + index) + what]!;
}

/**
 * The fields but time, response time and id, in 25 bits: status code (10), up (1), pattern (2:
 * none, matched, missing), error kind + 1 (4), message index + 1 (at most {@link CAPACITY}).
 */
function pack(result: CheckResult, message: number): number {
  const pattern = result.patternMatched === null ? 0 : result.patternMatched ? 1 : 2;
  const kind = result.error === null ? 0 : ERROR_KINDS.indexOf(result.error.kind) + 1;
  return (result.statusCode ?? 0) | (result.up ? 1 << 10 : 0) | (pattern << 11) | (kind << 13) |
    (message << 17);
}

/** One recent check, as the screen shows it: its time to the second. */
export type RecentCheck = ReturnType<typeof recentChecks>[number];

/** @returns Every check of `history`, oldest first. */
export function recentChecks(history: History) {
  return Array.from({ length: historyLength(history) }, (_, index) => {
    const fields = word(history, index, FIELDS);
    const pattern = (fields >> 11) & 3;
    const kind = (fields >> 13) & 15;
    const message = fields >>> 17;
    return {
      checkedAtMs: checkedAtMsOf(history, index),
      up: upOf(history, index),
      statusCode: (fields & 1023) || null,
      responseTimeMs: responseTimeMsOf(history, index),
      patternMatched: pattern === 0 ? null : pattern === 1,
      errorKind: kind === 0 ? null : ERROR_KINDS[kind - 1]!,
      errorMessage: kind === 0 ? null : message === 0 ? "" : history.store.messages![message - 1]!,
    };
  });
}

/** @returns The time of check `index` (negative: from the newest, -1) in ms since the epoch. */
export function checkedAtMsOf(history: History, index: number): number {
  return word(history, index, SECONDS) * 1000;
}

/** @returns Whether check `index` (negative: from the newest) was up. */
export function upOf(history: History, index: number): boolean {
  return (word(history, index, FIELDS) & (1 << 10)) !== 0;
}

/** @returns The response time of check `index` (negative: from the newest), or null. */
export function responseTimeMsOf(history: History, index: number): number | null {
  const tenths = word(history, index, TENTHS);
  return tenths === NO_TIME ? null : tenths / 10;
}

/**
 * Adds a check in time order, in place; false when the history holds it already (a check delivered
 * again), or it is older than every check of a full history.
 */
export function addCheck(history: History, result: CheckResult, checkedAtMs: number): boolean {
  const { store, start, end } = history;
  const { words } = store;
  const seconds = Math.min(Math.floor(checkedAtMs / 1000), 0xffffffff);
  const digest = digestOf(result.checkId);
  // One site and region's results arrive in order (one partition, one checker): a short walk.
  let at = end;
  while (at > start && words[4 * (at - 1) + SECONDS]! > seconds) at--;
  for (let i = at - 1; i >= start && words[4 * i + SECONDS] === seconds; i--) {
    if (words[4 * i + DIGEST] === digest) return false;
  }
  const full = end - start >= RECENT_CHECKS;
  if (at === start && full) return false;
  const from = full ? start + 1 : start;
  if (at === end && end === store.written && 4 * end < words.length) {
    history.start = from;
    history.end = store.written = end + 1;
  } else {
    // A copy may share these words, or they are full: the checks kept, with a gap for this one.
    const count = end - from + 1;
    const copy = newStore();
    copyRange(store, from, at, copy, 0);
    copyRange(store, at, end, copy, at - from + 1);
    copy.written = count;
    Object.assign(history, { store: copy, start: 0, end: count });
    at -= from;
  }
  const into = history.store;
  const ms = result.responseTimeMs;
  into.words[4 * at + SECONDS] = seconds;
  into.words[4 * at + TENTHS] = ms === null ? NO_TIME : Math.round(ms * 10);
  into.words[4 * at + DIGEST] = digest;
  const message = result.error === null ? 0 : indexOf(into, kept(result.error.message));
  into.words[4 * at + FIELDS] = pack(result, message);
  return true;
}

/** Copies checks `start` to `end` to `at`, with only their messages, each indexed anew. */
function copyRange(from: Store, start: number, end: number, to: Store, at: number): void {
  to.words.set(from.words.subarray(4 * start, 4 * end), 4 * at);
  if (from.messages === undefined) return;
  for (let i = 4 * at + FIELDS; i < 4 * (at + end - start); i += 4) {
    const message = to.words[i]! >>> 17;
    if (message === 0) continue;
    const index = indexOf(to, from.messages[message - 1]!);
    to.words[i] = (to.words[i]! & 0x1ffff) | (index << 17);
  }
}

/** Where the store holds the message (+ 1): a site down for an hour holds its message once. */
function indexOf(store: Store, message: string): number {
  store.messages ??= [];
  const { messages } = store;
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i] === message) return i + 1;
  return messages.push(message);
}

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

const GAPS = 8;
// Sorted into an array made once: this runs for each row of each batch, millions in a backfill.
const gaps = new Float64Array(GAPS);

/** @returns The median of the latest gaps between checks (a new interval soon shows), or null. */
export function intervalMsOf(history: History): number | null {
  const count = Math.min(historyLength(history), GAPS + 1) - 1;
  if (count < 1) return null;
  for (let n = 0; n < count; n++) {
    const gap = checkedAtMsOf(history, n - count) - checkedAtMsOf(history, n - count - 1);
    let at = n;
    for (; at > 0 && gaps[at - 1]! > gap; at--) gaps[at] = gaps[at - 1]!;
    gaps[at] = gap;
  }
  return gaps[count >> 1]!;
}
