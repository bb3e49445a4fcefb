/**
 * What the alerter makes of a batch of check results, or of the passing of time: every transition
 * becomes one notification per channel of the site's rule. Pure: the caller saves the change.
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
  readonly transitions: readonly Transition[];
  readonly notifications: readonly { channel: string; notification: Notification }[];
}

/** Runs each configured site's events, in order, through its state (from `now` if it has none). */
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
    if (state !== before) states.push(state);
  }
  return { states, transitions, notifications };
}

/** The events of a batch of results, by site, in order. */
export function resultEvents(results: readonly CheckSeen[]): Map<string, AlertEvent[]> {
  const events = new Map<string, AlertEvent[]>();
  for (const result of results) {
    const siteEvents = events.get(result.siteId) ?? [];
    siteEvents.push({ type: "result", result });
    events.set(result.siteId, siteEvents);
  }
  return events;
}

/** A tick for every site: the passing of time, which opens `stale` incidents. */
export function tickEvents(siteIds: Iterable<string>, at: string): Map<string, AlertEvent[]> {
  return new Map([...siteIds].map((siteId) => [siteId, [{ type: "tick", at }]]));
}
