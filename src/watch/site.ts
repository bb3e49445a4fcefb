/**
 * One site as checked from one region — one row of `monitor watch` — changed in place by the
 * results that arrive. What does not depend on the time (its interval, whether it is down or
 * degraded, when it would turn stale) is worked out once per batch that changes it.
 *
 * @module
 */
import { type CheckResult, NO_CONNECTION_DETAILS } from "../check/result.ts";
import { printable } from "../text.ts";
import {
  addCheck,
  checkedAtMsOf,
  copyHistory,
  emptyHistory,
  type History,
  historyLength,
  intervalMsOf,
  upOf,
} from "./history.ts";

/** How many of the latest checks a failure makes an up site count as degraded. */
const DEGRADED_WITHIN = 5;

/** What the newest check saw of the connection (null where it did not get that far). */
export type ConnectionDetails = Readonly<
  Pick<CheckResult, keyof typeof NO_CONNECTION_DETAILS | "certExpiresAt">
>;

/** How a site stands. */
export type Status = "up" | "down" | "degraded" | "stale";

/** A site as seen on the topic from one region. */
export interface SiteState {
  /** `siteId@region` (a region has no `@`): what the selection holds. */
  readonly key: string;
  readonly siteId: string;
  readonly region: string;
  /** Its id in lower case, for the filter. */
  readonly searchId: string;
  siteName: string;
  searchName: string;
  url: string;
  /** The checker ("host:pid") of the newest check. */
  checker: string;
  /** Of the newest check only: a certificate's names are too much to keep for every check. */
  details: ConnectionDetails;
  /** Its recent checks, oldest first, each once; never empty once a batch is applied. */
  readonly recent: History;
  /** The median gap between checks; null until two checks arrived. */
  intervalMs: number | null;
  freshStatus: Exclude<Status, "stale">;
  /** Stale after this time (twice its interval after its newest check); null: never. */
  staleAfterMs: number | null;
  /** The batch that last changed it (see `Table.batches`). */
  batch: number;
}

/** @returns A row of no checks yet, for a printable id and region. */
export function newSite(siteId: string, region: string): SiteState {
  return {
    key: `${siteId}@${region}`,
    siteId,
    region,
    searchId: siteId.toLowerCase(),
    siteName: "",
    searchName: "",
    url: "",
    checker: "",
    details: NO_DETAILS,
    recent: emptyHistory(),
    intervalMs: null,
    freshStatus: "up",
    staleAfterMs: null,
    batch: 0,
  };
}

/** @returns A copy that stays as it is while `site` changes (what `p` shows). */
export function copySite(site: SiteState): SiteState {
  return { ...site, recent: copyHistory(site.recent) };
}

/**
 * How a site stands at `nowMs`: `stale` when no result came for twice its interval, otherwise
 * `down` when its newest check failed, `degraded` when one of its last few did, `up` otherwise.
 */
export function statusAt(
  site: Pick<SiteState, "freshStatus" | "staleAfterMs">,
  nowMs: number,
): Status {
  return site.staleAfterMs !== null && nowMs > site.staleAfterMs ? "stale" : site.freshStatus;
}

/**
 * Adds a result's check, naming the site as its newest check does (an older check arriving late
 * does not rename it back); call {@link settle} once the batch is in. Nothing of the result is
 * kept but its check, so that it is garbage at once.
 *
 * @returns False when the site holds the check already (or it is too old to keep).
 */
export function addResult(site: SiteState, result: CheckResult): boolean {
  const { recent } = site;
  const checkedAtMs = timeOf(result.checkedAt);
  const newest = historyLength(recent) === 0 || checkedAtMs >= checkedAtMsOf(recent, -1);
  if (!addCheck(recent, result, checkedAtMs)) return false;
  if (!newest) return true;
  if (result.siteName !== site.siteName) {
    site.siteName = printable(result.siteName);
    site.searchName = site.siteName.toLowerCase();
  }
  if (result.url !== site.url) site.url = printable(result.url);
  if (result.checker !== site.checker) site.checker = printable(result.checker);
  site.details = detailsOf(result);
  return true;
}

/** Works out what the checks of a batch imply. */
export function settle(site: SiteState): void {
  const { recent } = site;
  site.intervalMs = intervalMsOf(recent);
  let status: SiteState["freshStatus"] = upOf(recent, -1) ? "up" : "down";
  const count = Math.min(historyLength(recent), DEGRADED_WITHIN);
  for (let i = 2; i <= count && status === "up"; i++) if (!upOf(recent, -i)) status = "degraded";
  site.freshStatus = status;
  site.staleAfterMs = site.intervalMs === null
    ? null
    : checkedAtMsOf(recent, -1) + 2 * site.intervalMs;
}

const NO_DETAILS: ConnectionDetails = { ...NO_CONNECTION_DETAILS, certExpiresAt: null };
const DETAIL_KEYS = Object.keys(NO_DETAILS) as (keyof ConnectionDetails)[];

function detailsOf(result: CheckResult): ConnectionDetails {
  if (DETAIL_KEYS.every((key) => result[key] === null)) return NO_DETAILS;
  // The certificate's names come from whatever server answered.
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

/**
 * Milliseconds since the epoch of a time as a result spells it (`2026-11-25T10:00:00.000Z`):
 * worked out from the digits, as `Date.parse` takes twice as long, millions of times in a backfill.
 * (Days from the civil date: Howard Hinnant's `days_from_civil`, public domain.)
 */
function timeOf(text: string): number {
  if (text.length !== 24) return Date.parse(text);
  const n = (at: number, digits: number) => {
    let value = 0;
    for (let i = at; i < at + digits; i++) value = value * 10 + text.charCodeAt(i) - 48;
    return value;
  };
  const month = n(5, 2);
  const year = n(0, 4) - (month <= 2 ? 1 : 0);
  const era = Math.floor(year / 400);
  const yearOfEra = year - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + n(8, 2) - 1;
  const days = era * 146_097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) -
    Math.floor(yearOfEra / 100) + dayOfYear - 719_468;
  return ((days * 24 + n(11, 2)) * 60 + n(14, 2)) * 60_000 + n(17, 2) * 1000 + n(20, 3);
}
