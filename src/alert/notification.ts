/**
 * A notification: one transition of one incident, as every channel is told of it. Its JSON is the
 * body of the generic webhook, documented by `schema/alert_webhook.v1.json`, generated from
 * {@link notificationSchema}.
 *
 * @module
 */
import { z } from "zod";
import { printable } from "../text.ts";
import { formatElapsed } from "./elapsed.ts";
import {
  INCIDENT_KINDS,
  incidentCauseSchema,
  type IncidentKind,
  type Transition,
} from "./state.ts";

/**
 * How bad each kind is, in PagerDuty's words: slow is not down.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEVERITIES } from "./notification.ts";
 * assert.equal(SEVERITIES.degraded, "warning");
 * ```
 */
export const SEVERITIES = {
  down: "critical",
  stale: "error",
  degraded: "warning",
} as const satisfies Record<IncidentKind, string>;

/** The notification format version. */
export const NOTIFICATION_VERSION = 1 as const;

const utcTime = z.iso.datetime({ offset: false, precision: 3 });

/**
 * A notification, and the webhook's JSON body (version 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notificationSchema } from "./notification.ts";
 * assert.equal(notificationSchema.safeParse({ version: 1 }).success, false);
 * ```
 */
export const notificationSchema = z.strictObject({
  version: z.literal(NOTIFICATION_VERSION).describe("Notification format version"),
  idempotencyKey: z.string().min(1).describe(
    "The same for every delivery of the same transition (<incidentId>/<transition>): drop a notification whose key was seen already",
  ),
  transition: z.enum(["opened", "resolved"]).describe("What happened to the incident"),
  incidentId: z.string().min(1).max(255).describe(
    "Unique id of the incident: <siteId>/<kind>/<checkId that opened it> (stale: <siteId>/stale/after-<checkId>)",
  ),
  siteId: z.string().min(1).describe("The site's id from the sites file"),
  siteName: z.string().min(1).describe("The site's display name"),
  url: z.string().describe("The site's URL"),
  kind: z.enum(INCIDENT_KINDS).describe(
    "down: checks fail; degraded: checks are slower than the site's response_time; stale: no results arrive",
  ),
  severity: z.enum(["critical", "error", "warning"]).describe(
    "critical for down, error for stale, warning for degraded",
  ),
  summary: z.string().describe('One line for people, e.g. "Shop is down: timeout: …"'),
  cause: incidentCauseSchema.describe("Why the incident opened: from the check that opened it"),
  regions: z.array(z.string()).describe(
    "The regions that saw the site down (or slow) when the incident opened",
  ),
  openedAt: utcTime.describe("When the incident opened, UTC"),
  openedByCheckId: z.string().nullable().describe("The check that opened it; null for stale"),
  resolvedAt: utcTime.nullable().describe("When it resolved, UTC; null when it opened"),
  resolvedByCheckId: z.string().nullable().describe(
    "The check that resolved it; null when it opened",
  ),
}).describe("website-monitor incident notification: the generic webhook's JSON body (version 1)");

/** One transition of one incident, for the channels. */
export type Notification = z.infer<typeof notificationSchema>;

/** What a notification says of its site, beyond its id. */
export interface NotifiedSite {
  readonly name: string;
  readonly url: string;
}

/**
 * The notification of a transition.
 *
 * @param transition From the state machine.
 * @param site The site's name and URL (from the sites file).
 * @returns The notification; its `idempotencyKey` depends on the transition only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notificationOf } from "./notification.ts";
 * const incident = {
 *   id: "shop/down/c1", siteId: "shop", kind: "down" as const, openedAt: "2026-01-01T00:00:00.000Z",
 *   openedByCheckId: "c1", regions: ["eu"],
 *   cause: { errorKind: "timeout" as const, statusCode: null, responseTimeMs: null, message: "No answer in 10s" },
 * };
 * const opened = notificationOf({ type: "opened", incident }, { name: "Shop", url: "https://shop.test/" });
 * assert.equal(opened.idempotencyKey, "shop/down/c1/opened");
 * assert.equal(opened.summary, "Shop is down: timeout: No answer in 10s");
 * const resolved = notificationOf(
 *   { type: "resolved", incident, resolvedAt: "2026-01-01T00:05:12.000Z", resolvedByCheckId: "c9" },
 *   { name: "Shop", url: "https://shop.test/" },
 * );
 * assert.equal(resolved.summary, "Shop is up again, after 5m12s down");
 * ```
 */
export function notificationOf(transition: Transition, site: NotifiedSite): Notification {
  const { incident } = transition;
  const resolved = transition.type === "resolved" ? transition : null;
  return {
    version: NOTIFICATION_VERSION,
    idempotencyKey: `${incident.id}/${transition.type}`,
    transition: transition.type,
    incidentId: incident.id,
    siteId: incident.siteId,
    siteName: site.name,
    url: site.url,
    kind: incident.kind,
    severity: SEVERITIES[incident.kind],
    summary: summaryOf(transition, site.name),
    cause: incident.cause,
    regions: incident.regions,
    openedAt: incident.openedAt,
    openedByCheckId: incident.openedByCheckId,
    resolvedAt: resolved?.resolvedAt ?? null,
    resolvedByCheckId: resolved?.resolvedByCheckId ?? null,
  };
}

const OPENED = { down: "is down", degraded: "is slow", stale: "is stale" } as const;
const RESOLVED = {
  down: ["is up again", "down"],
  degraded: ["is fast again", "slow"],
  stale: ["reports again", "silent"],
} as const;

function summaryOf(transition: Transition, siteName: string): string {
  const { incident } = transition;
  if (transition.type === "opened") {
    const { errorKind, message } = incident.cause;
    const why = errorKind === null ? message : `${errorKind}: ${message}`;
    return printable(`${siteName} ${OPENED[incident.kind]}: ${why}`);
  }
  const [again, was] = RESOLVED[incident.kind];
  const elapsedMs = Date.parse(transition.resolvedAt) - Date.parse(incident.openedAt);
  return printable(`${siteName} ${again}, after ${formatElapsed(elapsedMs)} ${was}`);
}

/**
 * The generic webhook's body: the notification as JSON, the exact bytes that are signed.
 *
 * @param notification The notification.
 * @returns Its JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notificationSchema, webhookBody } from "./notification.ts";
 * const notification = {
 *   version: 1 as const, idempotencyKey: "a/stale/since-x/opened", transition: "opened" as const, incidentId: "a/stale/since-x",
 *   siteId: "a", siteName: "A", url: "https://a.test/", kind: "stale" as const, severity: "error" as const,
 *   summary: "A is stale", cause: { errorKind: null, statusCode: null, responseTimeMs: null, message: "silence" },
 *   regions: [], openedAt: "2026-01-01T00:00:00.000Z", openedByCheckId: null, resolvedAt: null, resolvedByCheckId: null,
 * };
 * assert.deepEqual(notificationSchema.parse(JSON.parse(webhookBody(notification))), notification);
 * ```
 */
export function webhookBody(notification: Notification): string {
  return JSON.stringify(notification);
}
