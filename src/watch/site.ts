/**
 * One site as checked from one region — one row of `monitor watch` — and how a batch of results
 * changes it. What does not depend on the time (its interval, whether it is down or degraded, when
 * it would turn stale) is worked out here, once per batch that changes the site, so that ordering
 * 30 000 rows never recomputes it.
 *
 * @module
 */
import { type CheckResult, NO_CONNECTION_DETAILS } from "../check/result.ts";
import { printable } from "../text.ts";
import {
  checkedAtMsOf,
  EMPTY_HISTORY,
  type History,
  historyLength,
  intervalMsOf,
  upOf,
  withCheck,
} from "./history.ts";
import { type KeyMap, keyMapGet } from "./key_map.ts";

/** How many of the latest checks a failure makes an up site count as degraded. */
const DEGRADED_WITHIN = 5;

/**
 * What a check saw of the connection: each phase's time, the address and HTTP version, the TLS
 * version and the certificate. Null where the check did not get that far, and everywhere for a
 * check that made no connection (except the certificate's expiry).
 */
export type ConnectionDetails = Readonly<
  Pick<CheckResult, keyof typeof NO_CONNECTION_DETAILS | "certExpiresAt">
>;

/** How a site stands. */
export type Status = "up" | "down" | "degraded" | "stale";

/** A site as seen on the topic from one region. */
export interface SiteState {
  /** {@link rowKey} of its id and region: what the selection holds. */
  readonly key: string;
  readonly siteId: string;
  /** The region its checks came from. */
  readonly region: string;
  readonly siteName: string;
  readonly url: string;
  /** The checker ("host:pid") of the newest check. */
  readonly checker: string;
  /**
   * Of the newest check only, for the detail pane: a certificate may carry a hundred names of a
   * thousand characters each, too much to keep for every recent check of every site.
   */
  readonly details: ConnectionDetails;
  /** Its recent checks, oldest first, each once; never empty. */
  readonly recent: History;
  /** The interval between checks, as observed (median gap); null until two checks arrived. */
  readonly intervalMs: number | null;
  /** How it stands as long as it does not turn stale. */
  readonly freshStatus: Exclude<Status, "stale">;
  /** It is stale after this time (twice its interval after its newest check); null: never. */
  readonly staleAfterMs: number | null;
  /** Its id and name in lower case, for the filter. */
  readonly searchId: string;
  readonly searchName: string;
}

/**
 * The key of a site in a region. A region has no `@` (see `REGION_PATTERN`), so no two pairs share
 * a key.
 *
 * @param siteId The site's id, printable.
 * @param region Its region.
 * @returns `siteId@region`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowKey } from "./site.ts";
 * assert.equal(rowKey("shop", "eu"), "shop@eu");
 * ```
 */
export function rowKey(siteId: string, region: string): string {
  return `${siteId}@${region}`;
}

/**
 * How a site stands at `nowMs`: `stale` when no result came for twice its interval, otherwise
 * `down` when its newest check failed, `degraded` when one of its last few did, `up` otherwise.
 *
 * @param site The site.
 * @param nowMs The time.
 * @returns Its status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statusAt } from "./site.ts";
 * const site = { freshStatus: "down", staleAfterMs: 20_000 } as const;
 * assert.equal(statusAt(site, 15_000), "down");
 * assert.equal(statusAt(site, 25_000), "stale");
 * ```
 */
export function statusAt(
  site: Pick<SiteState, "freshStatus" | "staleAfterMs">,
  nowMs: number,
): Status {
  return site.staleAfterMs !== null && nowMs > site.staleAfterMs ? "stale" : site.freshStatus;
}

/** A site before and after a batch of results. */
export interface SiteChange {
  /** Undefined when the batch brought its first check. */
  readonly before: SiteState | undefined;
  readonly after: SiteState;
}

/**
 * The sites a batch of results changes, each a new object; the sites it does not change stay the
 * same objects in `sites`. A check counts once however often it arrives (by a digest of its
 * `checkId`).
 *
 * @param sites The sites so far.
 * @param results The batch, in any order.
 * @returns The sites changed, each with its version before; none when the batch holds nothing new.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_CONNECTION_DETAILS } from "../check/result.ts";
 * import { historyLength } from "./history.ts";
 * import { emptyKeyMap } from "./key_map.ts";
 * import { changedSites } from "./site.ts";
 * const result = {
 *   ...NO_CONNECTION_DETAILS, version: 1, checkId: "0190d6a8-7b5c-7def-8abc-0123456789ab",
 *   siteId: "shop", siteName: "Shop", url: "https://shop.example/", region: "eu",
 *   checker: "web-1:42", checkedAt: "2026-11-25T10:00:00.000Z", timeToHeadersMs: 10,
 *   responseTimeMs: 20, statusCode: 200, pattern: null, patternMatched: null,
 *   certExpiresAt: null, up: true, error: null,
 * } as const;
 * const changed = changedSites(emptyKeyMap(), [result, result]);
 * assert.deepEqual(changed.map(({ after }) => after.key), ["shop@eu"]);
 * assert.equal(historyLength(changed[0]!.after.recent), 1, "the same check counts once");
 * ```
 */
export function changedSites(
  sites: KeyMap<SiteState>,
  results: readonly CheckResult[],
): SiteChange[] {
  // A backfill brings thousands of results of the same sites at once: each site a batch changes
  // is made anew once, from its checks after the whole batch.
  const changes: Change[] = [];
  // By region, then id: found without making a key of the two (a backfill brings millions).
  const changed = new Map<string, Map<string, Change>>();
  for (const result of results) {
    // Text from any producer reaches the screen without control characters, and the id as shown
    // is the key, so that selecting a row finds its site. An id and region as the result spells
    // them that find a row are printable already.
    let { siteId, region } = result;
    let change = changed.get(region)?.get(siteId);
    let before = change === undefined ? keyMapGet(sites, siteId, region) : undefined;
    if (change === undefined && before === undefined) {
      siteId = printable(siteId);
      region = printable(region);
      change = changed.get(region)?.get(siteId);
      before = change === undefined ? keyMapGet(sites, siteId, region) : undefined;
    }
    const recent = (change ?? before)?.recent ?? EMPTY_HISTORY;
    const checkedAtMs = Date.parse(result.checkedAt);
    const history = withCheck(recent, result, checkedAtMs);
    if (history === undefined) continue;
    const newest = historyLength(recent) === 0 || checkedAtMs >= checkedAtMsOf(recent, -1);
    if (change === undefined) {
      const key = before?.key ?? rowKey(siteId, region);
      change = { key, before, recent: history, newest: newest ? result : undefined };
      changes.push(change);
      let byId = changed.get(region);
      if (byId === undefined) changed.set(region, byId = new Map());
      byId.set(siteId, change);
    } else {
      change.recent = history;
      if (newest) change.newest = result;
    }
  }
  return changes.map((change) => ({ before: change.before, after: summarised(change) }));
}

/** What one batch does to a site. */
interface Change {
  readonly key: string;
  /** The site before the batch; undefined when the batch brings its first check. */
  readonly before: SiteState | undefined;
  /** Its checks after the batch. */
  recent: History;
  /** The batch's result that is its newest check now, if one is (always for a new site). */
  newest: CheckResult | undefined;
}

/** The site with its newest check's name, URL and details, and what its checks imply. */
function summarised({ key, before, recent, newest }: Change): SiteState {
  // The site as its latest check names it (a replay of older checks does not rename it back).
  const siteName = newest === undefined
    ? before!.siteName
    : kept(newest.siteName, before?.siteName);
  const siteId = before?.siteId ?? printable(newest!.siteId);
  const intervalMs = intervalMsOf(recent);
  const count = historyLength(recent);
  let freshStatus: SiteState["freshStatus"] = upOf(recent, -1) ? "up" : "down";
  for (let i = 2; i <= Math.min(count, DEGRADED_WITHIN) && freshStatus === "up"; i++) {
    if (!upOf(recent, -i)) freshStatus = "degraded";
  }
  return {
    key,
    siteId,
    region: before?.region ?? printable(newest!.region),
    siteName,
    url: newest === undefined ? before!.url : kept(newest.url, before?.url),
    checker: newest === undefined ? before!.checker : kept(newest.checker, before?.checker),
    details: newest === undefined ? before!.details : detailsOf(newest),
    recent,
    intervalMs,
    freshStatus,
    staleAfterMs: intervalMs === null ? null : checkedAtMsOf(recent, -1) + 2 * intervalMs,
    searchId: before?.searchId ?? siteId.toLowerCase(),
    searchName: siteName === before?.siteName ? before.searchName : siteName.toLowerCase(),
  };
}

/** Text as kept: what the site holds already when the same (it is printable), else made so. */
function kept(text: string, held: string | undefined): string {
  return text === held ? held : printable(text);
}

const NO_DETAILS: ConnectionDetails = { ...NO_CONNECTION_DETAILS, certExpiresAt: null };
const DETAILS = Object.keys(NO_DETAILS) as (keyof ConnectionDetails)[];

function detailsOf(result: CheckResult): ConnectionDetails {
  // A check that recorded none (no connection was made): one object for all of them.
  let none = true;
  for (const key of DETAILS) none &&= result[key] === null;
  if (none) return NO_DETAILS;
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
