/**
 * What the alerter makes of a batch of check results, or of the passing of time: each configured
 * site's state runs through the incident state machine, and every transition becomes one
 * notification per channel of the site's rule. Pure: the caller loads the states and saves the
 * change in one transaction, so a change is written whole or not at all.
 *
 * @module
 */
import { type AlertEvent, applyAlertEvent, initialAlertState } from "./incidents.ts";
import { type Notification, notificationOf } from "./notification.ts";
import type { AlertRule } from "./rules.ts";
import type { AlertState, CheckSeen, Transition } from "./state.ts";

/** A site as the alerter knows it: its rule, and what notifications say of it. */
export interface AlertedSite {
  readonly rule: AlertRule;
  readonly name: string;
  readonly url: string;
}

/** What to write, in one transaction. */
export interface AlertChange {
  /** The new state of each site that an event changed (or that had none). */
  readonly states: readonly AlertState[];
  /** Incidents opened and resolved, in order. */
  readonly transitions: readonly Transition[];
  /** One per transition and channel of the site's rule. */
  readonly notifications: readonly {
    readonly channel: string;
    readonly notification: Notification;
  }[];
}

/**
 * Runs events through the states of the sites they concern.
 *
 * @param events Per site id, its events in order (results of one site come from one partition).
 * @param context The configured sites (events of other sites are ignored), their states so far
 *   (a site without one starts watched from `now`), and the alerter's clock.
 * @returns The change to save.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decide } from "./decide.ts";
 * const rule = {
 *   failureThreshold: 3, successThreshold: 2, regions: 1, responseTimeMs: null,
 *   staleAfterMs: 180_000, channels: ["ops"],
 * };
 * const sites = new Map([["a", { rule, name: "A", url: "https://a.test/" }]]);
 * const failed = (n: number) => ({
 *   type: "result" as const,
 *   result: {
 *     checkId: `0190d6a8-7b5c-7def-8abc-00000000000${n}`, siteId: "a", region: "eu", up: false,
 *     checkedAt: `2026-01-01T00:0${n}:00.000Z`, statusCode: 503, responseTimeMs: 5,
 *     error: { kind: "unexpected_status" as const, message: "503" },
 *   },
 * });
 * const change = decide(new Map([["a", [failed(1), failed(2), failed(3)]]]), {
 *   sites, states: new Map(), now: "2026-01-01T00:03:00.000Z",
 * });
 * assert.equal(change.transitions[0]?.type, "opened");
 * assert.equal(change.notifications[0]?.channel, "ops");
 * ```
 */
export function decide(
  events: ReadonlyMap<string, readonly AlertEvent[]>,
  context: {
    readonly sites: ReadonlyMap<string, AlertedSite>;
    readonly states: ReadonlyMap<string, AlertState>;
    readonly now: string;
  },
): AlertChange {
  const states: AlertState[] = [];
  const transitions: Transition[] = [];
  const notifications: { channel: string; notification: Notification }[] = [];
  for (const [siteId, siteEvents] of events) {
    const site = context.sites.get(siteId);
    if (site === undefined || siteEvents.length === 0) continue;
    const before = context.states.get(siteId);
    let state = before ?? initialAlertState(siteId, context.now);
    for (const event of siteEvents) {
      const step = applyAlertEvent(site.rule, state, event);
      state = step.state;
      for (const transition of step.transitions) {
        transitions.push(transition);
        const notification = notificationOf(transition, site);
        for (const channel of site.rule.channels) notifications.push({ channel, notification });
      }
    }
    // (The state machine returns the state itself when an event changes nothing.)
    if (state !== before) states.push(state);
  }
  return { states, transitions, notifications };
}

/**
 * The events of a batch of results, by site.
 *
 * @param results Check results in the order read.
 * @returns Per site id, its results as events, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultEvents } from "./decide.ts";
 * const result = { siteId: "a" } as Parameters<typeof resultEvents>[0][number];
 * assert.equal(resultEvents([result, result]).get("a")?.length, 2);
 * ```
 */
export function resultEvents(results: readonly CheckSeen[]): Map<string, AlertEvent[]> {
  const events = new Map<string, AlertEvent[]>();
  for (const result of results) {
    const siteEvents = events.get(result.siteId);
    const event = { type: "result", result } as const;
    if (siteEvents === undefined) events.set(result.siteId, [event]);
    else siteEvents.push(event);
  }
  return events;
}

/**
 * A tick for every site: the passing of time, which opens `stale` incidents.
 *
 * @param siteIds The configured sites.
 * @param at The alerter's clock.
 * @returns Per site id, one tick.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tickEvents } from "./decide.ts";
 * assert.deepEqual(tickEvents(["a"], "2026-01-01T00:00:00.000Z").get("a"), [
 *   { type: "tick", at: "2026-01-01T00:00:00.000Z" },
 * ]);
 * ```
 */
export function tickEvents(siteIds: Iterable<string>, at: string): Map<string, AlertEvent[]> {
  return new Map([...siteIds].map((siteId) => [siteId, [{ type: "tick", at }]]));
}
