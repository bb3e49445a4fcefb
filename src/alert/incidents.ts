/**
 * The incident state machine of one site, pure: `(rule, state, event) → (state, transitions)`. No
 * clock (a tick brings the time), no I/O; the state is plain JSON.
 *
 * - **Hysteresis, per region.** A region counts as *down* after `failureThreshold` failed checks in
 *   a row and as up again after `successThreshold` good ones; in between it keeps its verdict, so a
 *   site that flaps (fail, ok, fail, ok) never changes it. *Slow* works the same way on checks that
 *   are up but slower than `responseTimeMs` (a failed check counts neither as slow nor as fast).
 * - **Quorum across regions.** A region is *reporting* when its newest check started within
 *   `staleAfterMs` of the newest check of any region. The quorum is `regions` of the reporting
 *   regions (all of them, when fewer report), or, for `"majority"`, more than half of them (1 of 1,
 *   2 of 2, 2 of 3, 3 of 4). A `down` incident opens on a failed check that brings the down regions
 *   to the quorum, and resolves on a good check that brings them below it; `degraded` likewise with
 *   slow and fast checks. So one bad vantage point alone opens nothing when several report.
 * - **Staleness.** A tick at a time `staleAfterMs` or more after the newest check (or after
 *   following began, when no check came) opens a `stale` incident: silence is never health. The
 *   next check newer than every check before resolves it.
 * - **At most one incident of each kind is open**; every resolve follows its open. A check applied
 *   again, or older than its region's newest, changes nothing (Kafka delivers at least once).
 *
 * Checks are ordered by `checkedAt` (the checker's clock), ticks by the alerter's: the clocks are
 * assumed synchronised to well within an interval.
 *
 * @module
 */
import { formatElapsed } from "./elapsed.ts";
import { isAfter, isSlow, nextRegion, quorum, splitRegions } from "./regions.ts";
import type { AlertRule } from "./rules.ts";
import type {
  AlertState,
  CheckSeen,
  Incident,
  IncidentCause,
  IncidentKind,
  RegionState,
  Transition,
} from "./state.ts";

/** One input: a check result of the site, or the passing of time. */
export type AlertEvent =
  | { readonly type: "result"; readonly result: CheckSeen }
  | { readonly type: "tick"; readonly at: string };

/** The state after an event, and what changed. */
export interface AlertStep {
  readonly state: AlertState;
  /** In the order they happened: a stale incident resolves before a down one opens. */
  readonly transitions: readonly Transition[];
}

/**
 * The state of a site before any event.
 *
 * @param siteId The site.
 * @param at When following it begins: with no result, it is stale `staleAfterMs` later.
 * @returns A state with no region and no incident.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialAlertState } from "./incidents.ts";
 * const state = initialAlertState("shop", "2026-01-01T00:00:00.000Z");
 * assert.deepEqual(state.open, { down: null, degraded: null, stale: null });
 * ```
 */
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
 * Applies one event to a site's state.
 *
 * @param rule The site's alert rule (a changed rule applies from this event on).
 * @param state The state after the previous event (as stored: plain JSON).
 * @param event A check result of this site, or a tick.
 * @returns The new state (the old one is not changed) and the transitions.
 * @throws {Error} When the result is of another site: a bug in the caller.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyAlertEvent, initialAlertState } from "./incidents.ts";
 * const rule = { failureThreshold: 2, successThreshold: 1, regions: 1, responseTimeMs: null, staleAfterMs: 180_000, channels: [] };
 * let state = initialAlertState("shop", "2026-01-01T00:00:00.000Z");
 * const failed = (n: number) => ({
 *   checkId: `check-${n}`, siteId: "shop", checkedAt: `2026-01-01T00:0${n}:00.000Z`, region: "eu",
 *   up: false, error: { kind: "timeout" as const, message: "No answer in 10s" }, statusCode: null, responseTimeMs: null,
 * });
 * state = applyAlertEvent(rule, state, { type: "result", result: failed(1) }).state;
 * const step = applyAlertEvent(rule, state, { type: "result", result: failed(2) });
 * assert.equal(step.transitions[0]?.type, "opened");
 * assert.equal(step.transitions[0]?.incident.id, "shop/down/check-2");
 * assert.equal(step.transitions[0]?.incident.cause.errorKind, "timeout");
 * ```
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
  const incident: Incident = {
    id: `${state.siteId}/stale/${
      state.latestCheckId === null
        ? `since-${Date.parse(state.watchingSince)}`
        : `after-${state.latestCheckId}`
    }`,
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
  if (previous !== undefined && !isAfter(result, toCheck(previous))) {
    return { state, transitions: [] };
  }
  const newest = state.latestCheckedAt === null || state.latestCheckId === null ||
    isAfter(result, { checkedAt: state.latestCheckedAt, checkId: state.latestCheckId });
  const latest = newest
    ? result
    : { checkedAt: state.latestCheckedAt!, checkId: state.latestCheckId! };
  const { kept, reporting } = splitRegions(
    { ...state.regions, [result.region]: nextRegion(rule, previous, result) },
    Date.parse(latest.checkedAt) - rule.staleAfterMs,
    result.region,
  );
  const { open, transitions } = decide(rule, state, result, {
    newest,
    needed: quorum(rule.regions, reporting.length),
    down: reporting.filter(([, region]) => region.down).map(([name]) => name).sort(),
    slow: reporting.filter(([, region]) => region.slow).map(([name]) => name).sort(),
  });
  return {
    state: {
      ...state,
      latestCheckedAt: latest.checkedAt,
      latestCheckId: latest.checkId,
      regions: kept,
      open,
    },
    transitions,
  };
}

function toCheck(region: RegionState): { checkedAt: string; checkId: string } {
  return { checkedAt: region.lastCheckedAt, checkId: region.lastCheckId };
}

/**
 * The incidents a check opens and resolves: stale resolves on the newest check; down opens on a
 * failed check that brings the down regions to the quorum and resolves on a good one that brings
 * them below it; degraded likewise with slow and fast checks.
 */
function decide(
  rule: AlertRule,
  state: AlertState,
  result: CheckSeen,
  regions: {
    readonly newest: boolean;
    readonly needed: number;
    readonly down: string[];
    readonly slow: string[];
  },
): { open: AlertState["open"]; transitions: Transition[] } {
  const transitions: Transition[] = [];
  const open = { ...state.open };
  const resolve = (kind: IncidentKind) => {
    const incident = open[kind]!;
    // A late check may have started before a stale incident opened; it ends no sooner.
    const resolvedAt = Date.parse(result.checkedAt) < Date.parse(incident.openedAt)
      ? incident.openedAt
      : result.checkedAt;
    transitions.push({ type: "resolved", incident, resolvedAt, resolvedByCheckId: result.checkId });
    open[kind] = null;
  };
  const openIncident = (kind: "down" | "degraded", names: string[], cause: IncidentCause) => {
    const incident: Incident = {
      id: `${state.siteId}/${kind}/${result.checkId}`,
      siteId: state.siteId,
      kind,
      openedAt: result.checkedAt,
      openedByCheckId: result.checkId,
      regions: names,
      cause,
    };
    transitions.push({ type: "opened", incident });
    open[kind] = incident;
  };

  if (open.stale !== null && regions.newest) resolve("stale");
  const quorate = (names: readonly string[]) => names.length >= regions.needed;
  if (open.down === null && !result.up && quorate(regions.down)) {
    openIncident("down", regions.down, failureOf(result));
  } else if (open.down !== null && result.up && !quorate(regions.down)) {
    resolve("down");
  }
  const slow = isSlow(rule, result);
  if (open.degraded === null && slow && quorate(regions.slow)) {
    openIncident("degraded", regions.slow, slownessOf(rule, result));
  } else if (open.degraded !== null && result.up && !slow && !quorate(regions.slow)) {
    resolve("degraded");
  }
  return { open, transitions };
}

function failureOf(result: CheckSeen): IncidentCause {
  return {
    errorKind: result.error?.kind ?? null,
    statusCode: result.statusCode,
    responseTimeMs: result.responseTimeMs,
    message: result.error?.message ?? "The check failed",
  };
}

function slownessOf(rule: AlertRule, result: CheckSeen): IncidentCause {
  return {
    errorKind: null,
    statusCode: result.statusCode,
    responseTimeMs: result.responseTimeMs,
    message: `Response time ${Math.round(result.responseTimeMs ?? 0)} ms is over ${
      formatElapsed(rule.responseTimeMs ?? 0)
    }`,
  };
}
