/**
 * PagerDuty Events API v2: an opened incident is a `trigger`, a resolved one a `resolve`, both with
 * `dedup_key` = the incident id, so that PagerDuty correlates them and drops a repeated trigger into
 * the same alert. PagerDuty answers `202 Accepted`; `400` means the event is invalid (not worth
 * sending again), `429` and `5xx` are worth another try.
 *
 * @module
 */
import type { Notification } from "../notification.ts";
import type { Channel } from "./channel.ts";
import type { PagerDutyChannelConfig } from "./config.ts";
import { jsonChannel } from "./http.ts";

/** PagerDuty's bound on `payload.summary`. */
const MAX_SUMMARY_CHARS = 1_024;

/** An Events API v2 event, as sent. */
export type PagerDutyEvent =
  | {
    readonly routing_key: string;
    readonly event_action: "trigger";
    readonly dedup_key: string;
    readonly client: string;
    readonly payload: {
      readonly summary: string;
      readonly source: string;
      readonly severity: "critical" | "error" | "warning" | "info";
      readonly timestamp: string;
      readonly component: string;
      readonly class: string;
      readonly custom_details: Readonly<Record<string, unknown>>;
    };
    readonly links: readonly { readonly href: string; readonly text: string }[];
  }
  | {
    readonly routing_key: string;
    readonly event_action: "resolve";
    readonly dedup_key: string;
  };

/**
 * The event for a notification.
 *
 * @param notification The notification.
 * @param routingKey The integration's routing key.
 * @returns A `trigger` for an opened incident, a `resolve` for a resolved one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pagerDutyEvent } from "./pagerduty.ts";
 * const event = pagerDutyEvent({
 *   version: 1, idempotencyKey: "a/down/c1/resolved", transition: "resolved", incidentId: "a/down/c1",
 *   siteId: "a", siteName: "A", url: "https://a.test/", kind: "down", severity: "critical",
 *   summary: "A is up again, after 5m down", regions: ["eu"], openedAt: "2026-01-01T00:00:00.000Z",
 *   cause: { errorKind: "timeout", statusCode: null, responseTimeMs: null, message: "No answer" },
 *   openedByCheckId: "c1", resolvedAt: "2026-01-01T00:05:00.000Z", resolvedByCheckId: "c7",
 * }, "R0UT1NGKEY");
 * assert.deepEqual(event, { routing_key: "R0UT1NGKEY", event_action: "resolve", dedup_key: "a/down/c1" });
 * ```
 */
export function pagerDutyEvent(notification: Notification, routingKey: string): PagerDutyEvent {
  if (notification.transition === "resolved") {
    return { routing_key: routingKey, event_action: "resolve", dedup_key: notification.incidentId };
  }
  const { cause } = notification;
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: notification.incidentId,
    client: "website-monitor",
    payload: {
      summary: notification.summary.slice(0, MAX_SUMMARY_CHARS),
      source: URL.canParse(notification.url) ? new URL(notification.url).host : notification.siteId,
      severity: notification.severity,
      timestamp: notification.openedAt,
      component: notification.siteId,
      class: notification.kind,
      custom_details: {
        site: notification.siteName,
        url: notification.url,
        error_kind: cause.errorKind,
        status_code: cause.statusCode,
        response_time_ms: cause.responseTimeMs,
        message: cause.message,
        regions: notification.regions,
        opened_by_check_id: notification.openedByCheckId,
        idempotency_key: notification.idempotencyKey,
      },
    },
    links: [{ href: notification.url, text: notification.siteName }],
  };
}

/**
 * A PagerDuty channel.
 *
 * @param config The channel (its routing key never appears in an error).
 * @returns The channel.
 *
 * @example
 * ```ts ignore
 * import { pagerDutyChannel } from "./pagerduty.ts";
 * const channel = pagerDutyChannel({
 *   type: "pagerduty", name: "oncall", routingKey: Deno.env.get("PAGERDUTY_ROUTING_KEY")!,
 *   url: "https://events.pagerduty.com/v2/enqueue", timeoutMs: 10_000,
 * });
 * await channel.send(notification);
 * ```
 */
export function pagerDutyChannel(config: PagerDutyChannelConfig): Channel {
  return jsonChannel(config, (notification) => ({
    body: JSON.stringify(pagerDutyEvent(notification, config.routingKey)),
  }));
}
