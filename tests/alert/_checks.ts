/**
 * Check results and rules for the incident state machine's tests: times in seconds from T0, three
 * outcomes (`ok` in 100 ms, `slow` in 5 s, `fail` with a 503).
 *
 * @module
 */
import { applyAlertEvent, initialAlertState } from "../../src/alert/incidents.ts";
import type { AlertRule } from "../../src/alert/rules.ts";
import type { AlertState, CheckSeen, Transition } from "../../src/alert/state.ts";

/** The start of every test's time. */
export const T0 = Date.parse("2026-11-25T10:00:00.000Z");

/** The time `seconds` after {@link T0}, as results and ticks write it. */
export function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

/** What a check saw. */
export type Outcome = "ok" | "slow" | "fail";

/** A check of site `shop`. */
export function check(
  id: string,
  seconds: number,
  outcome: Outcome,
  region = "eu",
  siteId = "shop",
): CheckSeen {
  const common = { checkId: id, siteId, checkedAt: at(seconds), region };
  if (outcome === "fail") {
    return {
      ...common,
      up: false,
      statusCode: 503,
      responseTimeMs: 40,
      error: { kind: "unexpected_status", message: "Status 503 is not in 200-399" },
    };
  }
  return {
    ...common,
    up: true,
    statusCode: 200,
    responseTimeMs: outcome === "slow" ? 5_000 : 100,
    error: null,
  };
}

/** Checks every 60 s (the default interval), 3 failures to open, 2 successes to resolve. */
export const RULE: AlertRule = {
  failureThreshold: 3,
  successThreshold: 2,
  regions: 1,
  responseTimeMs: 2_000,
  staleAfterMs: 180_000,
  channels: [],
};

/** One event: a check, or a tick at a time in seconds. */
export type TestEvent = CheckSeen | { readonly tick: number };

/**
 * Applies events in order from a fresh state (or `state`).
 *
 * @returns The final state and every transition.
 */
export function run(
  events: readonly TestEvent[],
  rule: AlertRule = RULE,
  state: AlertState = initialAlertState("shop", at(0)),
): { state: AlertState; transitions: Transition[] } {
  const transitions: Transition[] = [];
  for (const event of events) {
    const step = applyAlertEvent(
      rule,
      state,
      "tick" in event ? { type: "tick", at: at(event.tick) } : { type: "result", result: event },
    );
    state = step.state;
    transitions.push(...step.transitions);
  }
  return { state, transitions };
}

/** Transitions as `opened down` / `resolved stale` lines, for short assertions. */
export function summary(transitions: readonly Transition[]): string[] {
  return transitions.map((t) => `${t.type} ${t.incident.kind}`);
}

/** Checks with ids `<prefix><n>`, one a minute from `startSeconds`, in one region. */
export function series(
  prefix: string,
  outcomes: readonly Outcome[],
  startSeconds = 60,
  region = "eu",
): CheckSeen[] {
  return outcomes.map((outcome, i) =>
    check(`${prefix}${i + 1}`, startSeconds + i * 60, outcome, region)
  );
}
