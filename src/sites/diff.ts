/**
 * What applying a sites file changes on the sites topic: the sites it adds, changes (and which
 * keys) and removes, compared with what the topic holds. Pure: no Kafka here.
 *
 * @module
 */
import type { SiteMessage, UnreadableSite } from "./site_message.ts";

/** A site whose message changes. */
export interface SiteChange {
  readonly id: string;
  /** The top-level keys of `site` whose values differ, in the new message's order then others. */
  readonly keys: readonly string[];
  /** Why the message on the topic is not a site, when it is not: the new one replaces it. */
  readonly unreadable?: string;
}

/** The difference between the topic and a sites file. */
export interface SitesDiff {
  /** Ids of the new sites, in the file's order. */
  readonly added: readonly string[];
  /** Changed sites, in the file's order. */
  readonly changed: readonly SiteChange[];
  /** Ids of the sites on the topic that the file no longer has, sorted. */
  readonly removed: readonly string[];
  /** How many sites are on the topic as the file has them. */
  readonly unchanged: number;
}

/**
 * Compares what the topic holds with the messages of a sites file.
 *
 * @param current Site id → the message on the topic (tombstoned sites are not in it).
 * @param desired The file's messages.
 * @returns What is added, changed and removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { diffSites } from "./diff.ts";
 * const site = (id: string, url: string) => ({ version: 1 as const, site: { id, url } });
 * const current = new Map([["a", site("a", "https://a/")], ["b", site("b", "https://b/")]]);
 * const diff = diffSites(current, [site("a", "https://a2/"), site("c", "https://c/")]);
 * assert.deepEqual(diff, {
 *   added: ["c"],
 *   changed: [{ id: "a", keys: ["url"] }],
 *   removed: ["b"],
 *   unchanged: 0,
 * });
 * ```
 */
export function diffSites(
  current: ReadonlyMap<string, SiteMessage | UnreadableSite>,
  desired: readonly SiteMessage[],
): SitesDiff {
  const added: string[] = [];
  const changed: SiteChange[] = [];
  let unchanged = 0;
  for (const message of desired) {
    const { id } = message.site;
    const before = current.get(id);
    if (before === undefined) {
      added.push(id);
    } else if ("unreadable" in before) {
      changed.push({ id, keys: Object.keys(message.site), unreadable: before.unreadable });
    } else {
      const keys = changedKeys(before.site, message.site);
      if (keys.length === 0) unchanged++;
      else changed.push({ id, keys });
    }
  }
  const wanted = new Set(desired.map((message) => message.site.id));
  const removed = [...current.keys()].filter((id) => !wanted.has(id)).toSorted();
  return { added, changed, removed, unchanged };
}

/**
 * Whether a diff changes nothing.
 *
 * @param diff From {@link diffSites}.
 * @returns True when nothing is added, changed or removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isEmptyDiff } from "./diff.ts";
 * assert.ok(isEmptyDiff({ added: [], changed: [], removed: [], unchanged: 3 }));
 * ```
 */
export function isEmptyDiff(diff: SitesDiff): boolean {
  return diff.added.length === 0 && diff.changed.length === 0 && diff.removed.length === 0;
}

function changedKeys(before: object, after: object): string[] {
  const keys = [...new Set([...Object.keys(after), ...Object.keys(before)])];
  return keys.filter((key) =>
    !sameJson(
      (before as Record<string, unknown>)[key],
      (after as Record<string, unknown>)[key],
    )
  );
}

/** Whether two JSON values are equal; the order of an object's keys does not count. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((key) =>
    Object.hasOwn(b, key) &&
    sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
  );
}
