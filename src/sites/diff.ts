/**
 * What applying a sites file changes on the sites topic: the sites it adds, changes (and which
 * keys) and removes. Pure: no Kafka here.
 *
 * @module
 */
import type { SiteMessage, UnreadableSite } from "./site_message.ts";

/** A site whose message changes. */
interface SiteChange {
  readonly id: string;
  /** The top-level keys of `site` whose values differ, in the new message's order then others. */
  readonly keys: readonly string[];
  /** Why the message on the topic is not a site, when it is not: the new one replaces it. */
  readonly unreadable?: string;
}

/** The difference between the topic and a sites file. */
export interface SitesDiff {
  /** In the file's order. */
  readonly added: readonly string[];
  readonly changed: readonly SiteChange[];
  /** Sorted. */
  readonly removed: readonly string[];
  /** How many sites are on the topic as the file has them. */
  readonly unchanged: number;
}

/** Compares what the topic holds (tombstoned sites left out) with a sites file's messages. */
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
      const was: Record<string, unknown> = before.site;
      const now: Record<string, unknown> = message.site;
      const keys = [...new Set([...Object.keys(now), ...Object.keys(was)])]
        .filter((key) => !sameJson(was[key], now[key]));
      if (keys.length === 0) unchanged++;
      else changed.push({ id, keys });
    }
  }
  const wanted = new Set(desired.map((message) => message.site.id));
  const removed = [...current.keys()].filter((id) => !wanted.has(id)).toSorted();
  return { added, changed, removed, unchanged };
}

/** Whether two JSON values are equal; the order of an object's keys does not count. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || !a || !b) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const [x, y] = [a as Record<string, unknown>, b as Record<string, unknown>];
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length &&
    keys.every((key) => Object.hasOwn(y, key) && sameJson(x[key], y[key]));
}
