/**
 * What applying a sites file changes on the sites topic: the sites it adds, changes and removes.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { encodeSiteMessage, type SiteMessage, type UnreadableSite } from "./site_message.ts";

interface SiteChange {
  readonly id: string;
  /** The top-level keys of `site` whose values differ, in the new message's order then others. */
  readonly keys: readonly string[];
  /** Why the message on the topic is not a site, when it is not: the new one replaces it. */
  readonly unreadable?: string;
}

/** The difference between the topic and a sites file. */
export type SitesDiff = ReturnType<typeof diffSites>;

/** Compares what the topic holds (tombstoned sites left out) with a sites file's messages. */
export function diffSites(
  current: ReadonlyMap<string, SiteMessage | UnreadableSite>,
  desired: readonly SiteMessage[],
) {
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
      // As the topic will hold it: JSON has no -0, which a sites file may have.
      const now: Record<string, unknown> = JSON.parse(encodeSiteMessage(message)).site;
      const keys = [...new Set([...Object.keys(now), ...Object.keys(was)])]
        .filter((key) => !isDeepStrictEqual(was[key], now[key]));
      if (keys.length === 0) unchanged++;
      else changed.push({ id, keys });
    }
  }
  const wanted = new Set(desired.map((message) => message.site.id));
  const removed = [...current.keys()].filter((id) => !wanted.has(id)).toSorted();
  return { added, changed, removed, unchanged };
}
