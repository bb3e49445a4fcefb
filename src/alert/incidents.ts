/**
 * The incident state machine of one site, pure: `(rule, state, event) → (state, transitions)`.
 * Verdicts per region with hysteresis, a quorum across the reporting regions, and `stale` on
 * silence, as docs/alerts.md tells. At most one incident of each kind is open; a check applied
 * again, or older than its region's newest, changes nothing (Kafka delivers at least once).
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
  Transition,
} from "./state.ts";

/** One input: a check result of the site, or the passing of time. */
export type AlertEvent =
  | { readonly type: "result"; readonly result: CheckSeen }
  | { readonly type: "tick"; readonly at: string };

/** The state after an event, and the transitions in the order they happened. */
interface AlertStep {
  readonly state: AlertState;
  readonly transitions: readonly Transition[];
}

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
 * Applies one event to a site's state; the old state is not changed.
 *
 * @throws {Error} When the result is of another site: a bug in the caller.
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
  const last = previous && { checkedAt: previous.lastCheckedAt, checkId: previous.lastCheckId };
  if (last !== undefined && !isAfter(result, last)) {
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
