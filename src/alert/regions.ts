/**
 * What the incident state machine knows of each region: its streaks and verdicts (with
 * hysteresis), which regions still report, and how many must agree. Pure functions of the state.
 *
 * @module
 */
import type { AlertRule } from "./rules.ts";
import type { CheckSeen, RegionState } from "./state.ts";

/** Streaks are counted up to this (thresholds are at most as much): the state stays small. */
const MAX_STREAK = 100;

/**
 * Whether a check comes after another: by the time it started, then by id (UUIDv7 ids sort by
 * time), so that every check has one place in the order.
 *
 * @param check The check.
 * @param last The other check.
 * @returns Whether `check` is the later.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAfter } from "./regions.ts";
 * const at = "2026-01-01T00:00:00.000Z";
 * assert.equal(isAfter({ checkedAt: at, checkId: "b" }, { checkedAt: at, checkId: "a" }), true);
 * assert.equal(isAfter({ checkedAt: at, checkId: "a" }, { checkedAt: at, checkId: "a" }), false);
 * ```
 */
export function isAfter(
  check: { readonly checkedAt: string; readonly checkId: string },
  last: { readonly checkedAt: string; readonly checkId: string },
): boolean {
  const atMs = Date.parse(check.checkedAt);
  const lastMs = Date.parse(last.checkedAt);
  return atMs > lastMs || (atMs === lastMs && check.checkId > last.checkId);
}

/**
 * How many of the reporting regions must agree.
 *
 * @param regions The rule's `regions`.
 * @param reporting How many regions report (at least 1).
 * @returns `regions`, at most `reporting`; for `"majority"`, more than half of `reporting`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quorum } from "./regions.ts";
 * assert.deepEqual([1, 2, 3, 4].map((n) => quorum("majority", n)), [1, 2, 2, 3]);
 * assert.equal(quorum(2, 1), 1);
 * ```
 */
export function quorum(regions: number | "majority", reporting: number): number {
  if (regions === "majority") return Math.floor(reporting / 2) + 1;
  return Math.max(1, Math.min(regions, reporting));
}

/**
 * Whether a check is slow: up, and slower than the rule's response time.
 *
 * @param rule The site's rule.
 * @param result The check.
 * @returns `false` for a failed check, and when the rule has no response time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSlow } from "./regions.ts";
 * const rule = { failureThreshold: 3, successThreshold: 2, regions: 1, responseTimeMs: 2_000, staleAfterMs: 180_000, channels: [] };
 * assert.equal(isSlow(rule, { up: true, responseTimeMs: 2_500 }), true);
 * assert.equal(isSlow(rule, { up: false, responseTimeMs: 2_500 }), false);
 * ```
 */
export function isSlow(
  rule: AlertRule,
  result: Pick<CheckSeen, "up" | "responseTimeMs">,
): boolean {
  return result.up && rule.responseTimeMs !== null && result.responseTimeMs !== null &&
    result.responseTimeMs > rule.responseTimeMs;
}

/**
 * A region after one more of its checks. A failed check extends the failure streak (and says
 * nothing about speed); a good one extends the success streak and the slow or the fast one. A
 * verdict turns only at the end of a long enough streak: down after `failureThreshold` failures,
 * up after `successThreshold` successes; slow and fast likewise.
 *
 * @param rule The site's rule.
 * @param previous The region before, `undefined` for a region not seen (or forgotten).
 * @param result The region's check, newer than its `lastCheckId`.
 * @returns The region after.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextRegion } from "./regions.ts";
 * const rule = { failureThreshold: 1, successThreshold: 1, regions: 1, responseTimeMs: null, staleAfterMs: 180_000, channels: [] };
 * const result = {
 *   checkId: "c1", siteId: "a", checkedAt: "2026-01-01T00:00:00.000Z", region: "eu",
 *   up: false, error: { kind: "dns" as const, message: "No such host" }, statusCode: null, responseTimeMs: null,
 * };
 * assert.equal(nextRegion(rule, undefined, result).down, true);
 * ```
 */
export function nextRegion(
  rule: AlertRule,
  previous: RegionState | undefined,
  result: CheckSeen,
): RegionState {
  const region = previous ?? {
    lastCheckedAt: result.checkedAt,
    lastCheckId: result.checkId,
    failures: 0,
    successes: 0,
    down: false,
    slowChecks: 0,
    fastChecks: 0,
    slow: false,
  };
  const streak = (n: number) => Math.min(n + 1, MAX_STREAK);
  const seen = { ...region, lastCheckedAt: result.checkedAt, lastCheckId: result.checkId };
  if (!result.up) {
    const failures = streak(region.failures);
    const down = region.down || failures >= rule.failureThreshold;
    return { ...seen, failures, successes: 0, down };
  }
  const successes = streak(region.successes);
  const down = region.down && successes < rule.successThreshold;
  if (isSlow(rule, result)) {
    const slowChecks = streak(region.slowChecks);
    const slow = region.slow || slowChecks >= rule.failureThreshold;
    return { ...seen, failures: 0, successes, down, slowChecks, fastChecks: 0, slow };
  }
  const fastChecks = streak(region.fastChecks);
  const slow = region.slow && fastChecks < rule.successThreshold;
  return { ...seen, failures: 0, successes, down, slowChecks: 0, fastChecks, slow };
}

/**
 * The regions worth keeping, and those reporting: a region reports when its newest check started
 * at or after `horizonMs`. One that stopped reporting is forgotten when it has nothing to remember
 * (neither down nor slow), so the state stays as small as the set of regions; a down or slow one
 * is kept, not counted, until it reports again.
 *
 * @param regions Every region known, the one just updated among them.
 * @param horizonMs The newest check's start less `staleAfterMs`.
 * @param current The region just updated: always kept.
 * @returns `kept` for the state, `reporting` (name and region) for the quorum.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitRegions } from "./regions.ts";
 * const region = (at: string, down: boolean) => ({
 *   lastCheckedAt: at, lastCheckId: at, failures: 0, successes: 0, down, slowChecks: 0, fastChecks: 0, slow: false,
 * });
 * const { kept, reporting } = splitRegions({
 *   eu: region("2026-01-01T01:00:00.000Z", false),
 *   us: region("2026-01-01T00:00:00.000Z", false),
 *   ap: region("2026-01-01T00:00:00.000Z", true),
 * }, Date.parse("2026-01-01T00:57:00.000Z"), "eu");
 * assert.deepEqual(Object.keys(kept), ["eu", "ap"]);
 * assert.deepEqual(reporting.map(([name]) => name), ["eu"]);
 * ```
 */
export function splitRegions(
  regions: Readonly<Record<string, RegionState>>,
  horizonMs: number,
  current: string,
): {
  readonly kept: Record<string, RegionState>;
  readonly reporting: readonly (readonly [string, RegionState])[];
} {
  const reports = ([, region]: readonly [string, RegionState]) =>
    Date.parse(region.lastCheckedAt) >= horizonMs;
  const kept = Object.entries(regions).filter((entry) =>
    entry[0] === current || entry[1].down || entry[1].slow || reports(entry)
  );
  return { kept: Object.fromEntries(kept), reporting: kept.filter(reports) };
}
