/**
 * One site as checked from one region (a row of `monitor watch`), changed in place by each batch of
 * results, and what its row shows at a time, derived for the rows on screen only.
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
  recentChecks,
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

/** How a site stands at `nowMs`: stale after twice its interval with no result, else as settled. */
export function statusAt(site: SiteState, nowMs: number): Status {
  return site.staleAfterMs !== null && nowMs > site.staleAfterMs ? "stale" : site.freshStatus;
}

/**
 * Adds a result's check and, from the newest, the site's names and details (the result is then
 * garbage); false when held already or too old to keep. {@link settle} once the batch is in.
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

/** Works out what the checks of a batch imply: the interval, and down, degraded or up. */
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

/** One row of the table, as {@link rowOf} derives it. */
export type Row = ReturnType<typeof rowOf>;

/**
 * What a site's row shows at `nowMs`: p95 (null without a response time) and share of checks up
 * (0 to 1) over the window, or the newest check's when none is in it.
 */
export function rowOf(site: SiteState, { windowMs, nowMs }: { windowMs: number; nowMs: number }) {
  const recent = recentChecks(site.recent);
  const last = recent.at(-1)!;
  const inWindow = recent.filter((c) => c.checkedAtMs >= nowMs - windowMs);
  const times = inWindow.map((c) => c.responseTimeMs).filter((ms): ms is number => ms !== null)
    .sort((a, b) => a - b);
  return {
    key: site.key,
    siteId: site.siteId,
    region: site.region,
    siteName: site.siteName,
    status: statusAt(site, nowMs),
    last,
    responseTimes: recent.map((c) => c.responseTimeMs),
    // The nearest rank, as PostgreSQL's percentile_disc computes it.
    p95Ms: times.length === 0 ? null : times[Math.max(0, Math.ceil(0.95 * times.length) - 1)]!,
    uptime: inWindow.length === 0
      ? (last.up ? 1 : 0)
      : inWindow.filter((c) => c.up).length / inWindow.length,
    intervalMs: site.intervalMs,
  };
}

const NO_DETAILS: ConnectionDetails = { ...NO_CONNECTION_DETAILS, certExpiresAt: null };
const DETAIL_KEYS = Object.keys(NO_DETAILS) as (keyof ConnectionDetails)[];

/** The result's connection details, text made printable (a certificate's, from any server). */
function detailsOf(result: CheckResult): ConnectionDetails {
  if (DETAIL_KEYS.every((key) => result[key] === null)) return NO_DETAILS;
  const details: Record<string, unknown> = { ...NO_DETAILS };
  for (const key of DETAIL_KEYS) {
    const value = result[key];
    details[key] = typeof value === "string"
      ? printable(value)
      : Array.isArray(value)
      ? value.map(printable)
      : value;
  }
  return details as ConnectionDetails;
}

/**
 * Milliseconds since the epoch of `2026-11-25T10:00:00.000Z`, from the digits: `Date.parse` costs
 * a backfill 0.4 s more CPU a million checks. (Howard Hinnant's `days_from_civil`, public domain.)
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
