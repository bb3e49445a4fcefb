/**
 * Each region's streaks and verdicts (with hysteresis), which regions still report, and how many
 * must agree.
 *
 * @module
 */
import type { AlertRule } from "./rules.ts";
import type { CheckSeen, RegionState } from "./state.ts";

/** Streaks are counted up to this (thresholds are at most as much): the state stays small. */
const MAX_STREAK = 100;

/** Whether `check` comes after `last`: by start, then by id (UUIDv7 ids sort by time). */
export function isAfter(
  check: { readonly checkedAt: string; readonly checkId: string },
  last: { readonly checkedAt: string; readonly checkId: string },
): boolean {
  const atMs = Date.parse(check.checkedAt);
  const lastMs = Date.parse(last.checkedAt);
  return atMs > lastMs || (atMs === lastMs && check.checkId > last.checkId);
}

/** How many of the reporting regions must agree: `regions`, at most all; or more than half. */
export function quorum(regions: number | "majority", reporting: number): number {
  if (regions === "majority") return Math.floor(reporting / 2) + 1;
  return Math.max(1, Math.min(regions, reporting));
}

/** Whether a check is slow: up, and slower than the rule's response time. */
export function isSlow(rule: AlertRule, result: CheckSeen): boolean {
  return result.up && rule.responseTimeMs !== null && result.responseTimeMs !== null &&
    result.responseTimeMs > rule.responseTimeMs;
}

/**
 * A region after one more of its checks: a verdict turns only at the end of a long enough streak,
 * and a failed check says nothing about speed.
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
 * The regions worth keeping (`current`, those down or slow, those reporting), and those reporting:
 * with a check at or after `horizonMs`. The others are forgotten, so the state stays small.
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
