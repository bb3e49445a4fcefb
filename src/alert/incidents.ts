/**
 * One site's incident state machine, pure (docs/alerts.md). A check not newer than its region's
 * newest changes nothing. Checks go by the checker's clock, ticks by the alerter's (synchronised).
 *
 * @module
 */
import { formatElapsed } from "./notification.ts";
import type { AlertRule } from "./rules.ts";
import type { AlertState, CheckSeen, Incident, RegionState, Transition } from "./state.ts";

/** One input: a check result of the site, or the passing of time. */
export type AlertEvent =
  | { readonly type: "result"; readonly result: CheckSeen }
  | { readonly type: "tick"; readonly at: string };

type AlertStep = { readonly state: AlertState; readonly transitions: readonly Transition[] };

/** The state of a site before any event: with no result, it is stale `staleAfterMs` after `at`. */
export function initialAlertState(siteId: string, at: string): AlertState {
  return {
    version: 1,
    siteId,
    watchingSince: at,
    latestCheckedAt: null,
    latestCheckId: null,
    regions: {},
    open: { down: null, degraded: null, stale: null },
  };
}

/**
 * Applies one event to a site's state: a new state, or the same one when nothing changes. A result
 * of another site throws: a bug in the caller.
 */
export function applyAlertEvent(rule: AlertRule, state: AlertState, event: AlertEvent): AlertStep {
  return event.type === "tick"
    ? onTick(rule, state, event.at)
    : onResult(rule, state, event.result);
}

function onTick(rule: AlertRule, state: AlertState, at: string): AlertStep {
  const since = state.latestCheckedAt ?? state.watchingSince;
  const silentMs = Date.parse(at) - Date.parse(since);
  if (state.open.stale !== null || !(silentMs >= rule.staleAfterMs)) {
    return { state, transitions: [] };
  }
  const after = state.latestCheckId === null
    ? `since-${Date.parse(state.watchingSince)}`
    : `after-${state.latestCheckId}`;
  const incident: Incident = {
    id: `${state.siteId}/stale/${after}`,
    siteId: state.siteId,
    kind: "stale",
    openedAt: at,
    openedByCheckId: null,
    regions: Object.keys(state.regions).sort(),
    cause: {
      errorKind: null,
      statusCode: null,
      responseTimeMs: null,
      message: state.latestCheckedAt === null
        ? `No result since following began at ${since}, ${formatElapsed(silentMs)} ago`
        : `No result for ${formatElapsed(silentMs)}: the newest check started at ${since}`,
    },
  };
  return {
    state: { ...state, open: { ...state.open, stale: incident } },
    transitions: [{ type: "opened", incident }],
  };
}

function onResult(rule: AlertRule, state: AlertState, result: CheckSeen): AlertStep {
  if (result.siteId !== state.siteId) {
    throw new Error(
      `A result of site "${result.siteId}" was applied to the alert state of "${state.siteId}"`,
    );
  }
  const previous = Object.hasOwn(state.regions, result.region)
    ? state.regions[result.region]
    : undefined;
  const last = previous && { checkedAt: previous.lastCheckedAt, checkId: previous.lastCheckId };
  if (last !== undefined && !isAfter(result, last)) return { state, transitions: [] };
  const newest = state.latestCheckedAt === null || state.latestCheckId === null ||
    isAfter(result, { checkedAt: state.latestCheckedAt, checkId: state.latestCheckId });
  const latestCheckedAt = newest ? result.checkedAt : state.latestCheckedAt!;
  const latestCheckId = newest ? result.checkId : state.latestCheckId!;
  const { kept, reporting } = splitRegions(
    { ...state.regions, [result.region]: nextRegion(rule, previous, result) },
    Date.parse(latestCheckedAt) - rule.staleAfterMs,
    result.region,
  );
  const { open, transitions } = judge(rule, state, result, {
    newest,
    needed: quorum(rule.regions, reporting.length),
    down: reporting.filter(([, region]) => region.down).map(([name]) => name).sort(),
    slow: reporting.filter(([, region]) => region.slow).map(([name]) => name).sort(),
  });
  return { state: { ...state, latestCheckedAt, latestCheckId, regions: kept, open }, transitions };
}

/** The incidents a check opens and resolves, given the regions that report after it. */
function judge(
  rule: AlertRule,
  state: AlertState,
  result: CheckSeen,
  regions: { newest: boolean; needed: number; down: string[]; slow: string[] },
): { open: AlertState["open"]; transitions: Transition[] } {
  const transitions: Transition[] = [];
  const open = { ...state.open };
  const resolve = (kind: Incident["kind"]) => {
    const incident = open[kind]!;
    // A late check may have started before a stale incident opened; it ends no sooner.
    const resolvedAt = Date.parse(result.checkedAt) < Date.parse(incident.openedAt)
      ? incident.openedAt
      : result.checkedAt;
    transitions.push({ type: "resolved", incident, resolvedAt, resolvedByCheckId: result.checkId });
    open[kind] = null;
  };
  const openIncident = (kind: "down" | "degraded", names: string[], message: string) => {
    const incident: Incident = {
      id: `${state.siteId}/${kind}/${result.checkId}`,
      siteId: state.siteId,
      kind,
      openedAt: result.checkedAt,
      openedByCheckId: result.checkId,
      regions: names,
      cause: {
        errorKind: kind === "down" ? result.error?.kind ?? null : null,
        statusCode: result.statusCode,
        responseTimeMs: result.responseTimeMs,
        message,
      },
    };
    transitions.push({ type: "opened", incident });
    open[kind] = incident;
  };
  if (open.stale !== null && regions.newest) resolve("stale");
  const quorate = (names: readonly string[]) => names.length >= regions.needed;
  if (open.down === null && !result.up && quorate(regions.down)) {
    openIncident("down", regions.down, result.error?.message ?? "The check failed");
  } else if (open.down !== null && result.up && !quorate(regions.down)) {
    resolve("down");
  }
  const slow = isSlow(rule, result);
  if (open.degraded === null && slow && quorate(regions.slow)) {
    const ms = Math.round(result.responseTimeMs ?? 0);
    const over = formatElapsed(rule.responseTimeMs ?? 0);
    openIncident("degraded", regions.slow, `Response time ${ms} ms is over ${over}`);
  } else if (open.degraded !== null && result.up && !slow && !quorate(regions.slow)) {
    resolve("degraded");
  }
  return { open, transitions };
}

/** Streaks are counted up to this (thresholds are at most as much): the state stays small. */
const MAX_STREAK = 100;

type CheckOrder = Pick<CheckSeen, "checkedAt" | "checkId">;

/** Whether `check` comes after `last`: by start, then by id (UUIDv7 ids sort by time). */
function isAfter(check: CheckOrder, last: CheckOrder): boolean {
  const atMs = Date.parse(check.checkedAt);
  const lastMs = Date.parse(last.checkedAt);
  return atMs > lastMs || (atMs === lastMs && check.checkId > last.checkId);
}

function quorum(regions: number | "majority", reporting: number): number {
  if (regions === "majority") return Math.floor(reporting / 2) + 1;
  return Math.max(1, Math.min(regions, reporting));
}

function isSlow(rule: AlertRule, result: CheckSeen): boolean {
  return result.up && rule.responseTimeMs !== null && result.responseTimeMs !== null &&
    result.responseTimeMs > rule.responseTimeMs;
}

/**
 * A region after one more of its checks: a verdict turns only at the end of a long enough streak,
 * and a failed check says nothing about speed.
 */
function nextRegion(
  rule: AlertRule,
  previous: RegionState | undefined,
  result: CheckSeen,
): RegionState {
  const region = previous ?? {
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
function splitRegions(
  regions: Readonly<Record<string, RegionState>>,
  horizonMs: number,
  current: string,
) {
  const reports = ([, region]: readonly [string, RegionState]) =>
    Date.parse(region.lastCheckedAt) >= horizonMs;
  const kept = Object.entries(regions).filter((entry) =>
    entry[0] === current || entry[1].down || entry[1].slow || reports(entry)
  );
  return { kept: Object.fromEntries(kept), reporting: kept.filter(reports) };
}
