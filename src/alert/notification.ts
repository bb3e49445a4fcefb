/**
 * A notification: one transition of one incident, as every channel is told of it. Its JSON is the
 * generic webhook's body, documented by `schema/alert_webhook.v1.json`.
 *
 * @module
 */
import { z } from "zod";
import { printable } from "../text.ts";
import { INCIDENT_KINDS, incidentCauseSchema, type Transition, utcTime } from "./state.ts";

/** How bad each kind is, in PagerDuty's words: slow is not down. */
export const SEVERITIES = {
  down: "critical",
  stale: "error",
  degraded: "warning",
} as const satisfies Record<typeof INCIDENT_KINDS[number], string>;

/** A notification, and the webhook's JSON body (version 1). */
export const notificationSchema = z.strictObject({
  version: z.literal(1).describe("Notification format version"),
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

export type Notification = z.infer<typeof notificationSchema>;

/** The notification of a transition; its `idempotencyKey` depends on the transition only. */
export function notificationOf(
  transition: Transition,
  site: { readonly name: string; readonly url: string },
): Notification {
  const { incident } = transition;
  const resolved = transition.type === "resolved" ? transition : null;
  return {
    version: 1,
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

/** A span of time as people read it in a message: `3m12s`, not `192000ms`. */
export function formatElapsed(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.round(ms / 1_000);
  const parts = [
    [Math.floor(seconds / 3_600), "h"],
    [Math.floor(seconds / 60) % 60, "m"],
    [seconds % 60, "s"],
  ] as const;
  return parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join("");
}
