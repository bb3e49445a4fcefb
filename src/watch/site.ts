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
import { type KeyMap, keyMapGet } from "./key_map.ts";

/** How many recent checks of a site are kept (for the sparkline, the window figures, the pane). */
export const RECENT_CHECKS = 120;

/** How many of the latest checks a failure makes an up site count as degraded. */
const DEGRADED_WITHIN = 5;

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

/** How a site stands. */
export type Status = "up" | "down" | "degraded" | "stale";

/** A site as seen on the topic from one region. */
export interface SiteState {
  /** {@link rowKey} of its id and region: what the selection holds. */
  readonly key: string;
  readonly siteId: string;
  /** The region its checks came from ("default" for messages older than version 3). */
  readonly region: string;
  readonly siteName: string;
  readonly url: string;
  /** The checker ("host:pid") of the newest check; null when its message is older than version 3. */
  readonly checker: string | null;
  /**
   * Of the newest check only, for the detail pane: a certificate may carry a hundred names of a
   * thousand characters each, too much to keep for every recent check of every site.
   */
  readonly details: ConnectionDetails;
  /**
   * Oldest first, at most {@link RECENT_CHECKS}, each check (`checkId` and `checkedAtMs`) once: a
   * check delivered again has the time it had, so it is found among the checks of that millisecond.
   */
  readonly recent: readonly RecentCheck[];
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

/**
 * The sites a batch of results changes, each a new object; the sites it does not change stay the
 * same objects in `sites`. A check counts once however often it arrives (by its `checkId`).
 *
 * @param sites The sites so far, by {@link rowKey}.
 * @param results The batch, in any order.
 * @returns The changed sites by key; empty when the batch holds nothing new.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_CONNECTION_DETAILS } from "../check/result.ts";
 * import { emptyKeyMap } from "./key_map.ts";
 * import { changedSites } from "./site.ts";
 * const result = {
 *   ...NO_CONNECTION_DETAILS, version: 3, checkId: "0190d6a8-7b5c-7def-8abc-0123456789ab",
 *   siteId: "shop", siteName: "Shop", url: "https://shop.example/", region: "eu",
 *   checker: "web-1:42", checkedAt: "2026-11-25T10:00:00.000Z", timeToHeadersMs: 10,
 *   responseTimeMs: 20, statusCode: 200, pattern: null, patternMatched: null,
 *   certExpiresAt: null, up: true, error: null,
 * } as const;
 * const changed = changedSites(emptyKeyMap(), [result, result]);
 * assert.deepEqual([...changed.keys()], ["shop@eu"]);
 * assert.equal(changed.get("shop@eu")?.recent.length, 1, "the same check counts once");
 * ```
 */
export function changedSites(
  sites: KeyMap<SiteState>,
  results: readonly CheckResult[],
): Map<string, SiteState> {
  // A site the batch changes is copied once and then changed in place: a backfill brings thousands
  // of results of the same sites at once.
  const changed = new Map<string, MutableSite>();
  for (const result of results) {
    // Text from any producer reaches the screen: no control characters. The id as shown is the
    // key, so that selecting a row finds its site.
    const siteId = printable(result.siteId);
    const region = printable(result.region);
    const key = rowKey(siteId, region);
    const site = changed.get(key) ?? keyMapGet(sites, key);
    const checkedAtMs = Date.parse(result.checkedAt);
    // Results of one site and region arrive in order (one partition, one checker), so this walk
    // is short.
    const recent = site?.recent ?? [];
    let at = recent.length;
    while (at > 0 && recent[at - 1]!.checkedAtMs > checkedAtMs) at--;
    if (holds(recent, at, result.checkId, checkedAtMs)) continue;
    // Older than every check of a full window: it would be dropped at once.
    if (at === 0 && recent.length >= RECENT_CHECKS) continue;
    const newest = at === recent.length;
    const mutable = changed.get(key) ?? copyOf(site, key, siteId, region);
    changed.set(key, mutable);
    mutable.recent.splice(at, 0, recentCheck(result, checkedAtMs));
    mutable.recent.splice(0, mutable.recent.length - RECENT_CHECKS);
    // The site as its latest check names it (a replay of older checks does not rename it back).
    if (newest) {
      mutable.siteName = printable(result.siteName);
      mutable.url = printable(result.url);
      mutable.checker = result.checker === null ? null : printable(result.checker);
      mutable.details = detailsOf(result);
    }
  }
  const sealed = new Map<string, SiteState>();
  for (const [key, site] of changed) sealed.set(key, summarised(site));
  return sealed;
}

/**
 * Whether `recent` holds the check already. After a reconnect the source rewinds to the start of
 * the backfill window, and Kafka delivers at least once: a check held already must not count
 * twice. It would be among the checks of its millisecond, just before `at`.
 */
function holds(
  recent: readonly RecentCheck[],
  at: number,
  checkId: string,
  checkedAtMs: number,
): boolean {
  for (let i = at - 1; i >= 0 && recent[i]!.checkedAtMs === checkedAtMs; i--) {
    if (recent[i]!.checkId === checkId) return true;
  }
  return false;
}

/** A {@link SiteState} while one batch is applied to it. */
interface MutableSite {
  readonly key: string;
  readonly siteId: string;
  readonly region: string;
  siteName: string;
  url: string;
  checker: string | null;
  details: ConnectionDetails;
  readonly recent: RecentCheck[];
}

function copyOf(
  site:
    | Pick<SiteState, "siteName" | "url" | "checker" | "details" | "recent">
    | undefined,
  key: string,
  siteId: string,
  region: string,
): MutableSite {
  return {
    key,
    siteId,
    region,
    siteName: site?.siteName ?? "",
    url: site?.url ?? "",
    checker: site?.checker ?? null,
    details: site?.details ?? NO_DETAILS,
    recent: [...site?.recent ?? []],
  };
}

/** The site with what its checks imply, worked out once. */
function summarised(site: MutableSite): SiteState {
  const last = site.recent.at(-1)!;
  const intervalMs = medianGap(site.recent);
  const freshStatus = !last.up
    ? "down"
    : site.recent.slice(-DEGRADED_WITHIN).some((c) => !c.up)
    ? "degraded"
    : "up";
  return {
    ...site,
    intervalMs,
    freshStatus,
    staleAfterMs: intervalMs === null ? null : last.checkedAtMs + 2 * intervalMs,
    searchId: site.siteId.toLowerCase(),
    searchName: site.siteName.toLowerCase(),
  };
}

function medianGap(recent: readonly RecentCheck[]): number | null {
  if (recent.length < 2) return null;
  // A typed array sorts numbers without calling back into JavaScript: this runs for every site a
  // batch changes, 30 000 of them in a backfill's batch.
  const gaps = new Float64Array(recent.length - 1);
  for (let i = 1; i < recent.length; i++) {
    gaps[i - 1] = recent[i]!.checkedAtMs - recent[i - 1]!.checkedAtMs;
  }
  gaps.sort();
  return gaps[Math.floor(gaps.length / 2)]!;
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
