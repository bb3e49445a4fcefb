/**
 * PagerDuty Events API v2: an opened incident is a `trigger`, a resolved one a `resolve`, both with
 * `dedup_key` = the incident id, so that PagerDuty correlates them and drops a repeated trigger.
 *
 * @module
 */
import type { Notification } from "../notification.ts";
import { type Channel, jsonChannel } from "./channel.ts";
import type { PagerDutyChannelConfig } from "./config.ts";

/** PagerDuty's bound on `payload.summary`. */
const MAX_SUMMARY_CHARS = 1_024;

function pagerDutyEvent(notification: Notification, routingKey: string) {
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

/** A PagerDuty channel; its routing key never appears in an error. */
export function pagerDutyChannel(config: PagerDutyChannelConfig): Channel {
  return jsonChannel(config, (notification) => ({
    body: JSON.stringify(pagerDutyEvent(notification, config.routingKey)),
  }));
}
