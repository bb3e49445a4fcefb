/**
 * The data of the incident state machine, each type derived from its zod schema: a site's alert
 * state (plain JSON, stored in PostgreSQL), its incidents, and the transitions.
 *
 * @module
 */
import { z } from "zod";
import { type CheckResult, ERROR_KINDS } from "../check/result.ts";

/** What the state machine reads of a check result. A whole `CheckResult` will do. */
export type CheckSeen = Pick<
  CheckResult,
  "checkId" | "siteId" | "checkedAt" | "up" | "error" | "statusCode" | "responseTimeMs" | "region"
>;

/** What an incident is about: the site fails, is slow, or nothing is heard of it. */
export const INCIDENT_KINDS = ["down", "degraded", "stale"] as const;
export type IncidentKind = typeof INCIDENT_KINDS[number];

const utcTime = z.iso.datetime({ offset: false, precision: 3 });

/** Why an incident opened, from the check that opened it (for `stale`, from the silence). */
export const incidentCauseSchema = z.strictObject({
  errorKind: z.enum(ERROR_KINDS).nullable().describe(
    "The failed check's error kind; null for degraded and stale",
  ),
  statusCode: z.int().min(100).max(999).nullable().describe(
    "HTTP status of the check; null when none arrived, and for stale",
  ),
  responseTimeMs: z.number().min(0).nullable().describe(
    "Response time of the check; null when no complete response arrived, and for stale",
  ),
  message: z.string().describe("Human-readable detail: the check's error message, or why"),
});

export type IncidentCause = z.infer<typeof incidentCauseSchema>;

/**
 * An incident as it opened. Its `id` is unique and the same however often the same events are
 * applied: `<siteId>/<kind>/<checkId that opened it>`, and for `stale`,
 * `<siteId>/stale/after-<last checkId>` (or `since-<epoch ms>` when no result ever came).
 */
const incidentSchema = z.strictObject({
  id: z.string().min(1).max(255).describe("Unique id; PagerDuty's dedup_key"),
  siteId: z.string().min(1),
  kind: z.enum(INCIDENT_KINDS),
  openedAt: utcTime.describe("When the check that opened it started; for stale, the tick's time"),
  openedByCheckId: z.string().nullable().describe(
    "The check that opened it: the failed (or slow) check that completed the quorum; null for stale",
  ),
  regions: z.array(z.string()).describe(
    "The regions that saw the site down (or slow) when it opened; for stale, those last heard of",
  ),
  cause: incidentCauseSchema,
});

export type Incident = z.infer<typeof incidentSchema>;

/**
 * What one event changed: an incident opened, or one resolved (with the check that resolved it).
 */
const transitionSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("opened"), incident: incidentSchema }),
  z.strictObject({
    type: z.literal("resolved"),
    incident: incidentSchema,
    resolvedAt: utcTime.describe(
      "When the check that resolved it started (for stale, never before it opened)",
    ),
    resolvedByCheckId: z.string().describe("The good (or fast, or first new) check that did"),
  }),
]);

export type Transition = z.infer<typeof transitionSchema>;

/** What the machine keeps of one region: its newest check, its streaks and its verdicts. */
const regionStateSchema = z.strictObject({
  lastCheckedAt: utcTime,
  lastCheckId: z.string(),
  failures: z.int().min(0).describe("Consecutive failed checks (counted up to 100)"),
  successes: z.int().min(0).describe("Consecutive checks that were up (counted up to 100)"),
  down: z.boolean().describe(
    "Made true by failure_threshold failures in a row, false by success_threshold successes",
  ),
  slowChecks: z.int().min(0).describe("Consecutive slow checks (failed checks do not count)"),
  fastChecks: z.int().min(0).describe("Consecutive checks up within the response time"),
  slow: z.boolean().describe("As down, for slow and fast checks"),
});

export type RegionState = z.infer<typeof regionStateSchema>;

/** A site's alert state, as stored. Version 1. */
export const alertStateSchema = z.strictObject({
  version: z.literal(1),
  siteId: z.string().min(1),
  watchingSince: utcTime.describe("When following the site began: silence from then on counts"),
  latestCheckedAt: utcTime.nullable().describe("The newest check of any region; null before one"),
  latestCheckId: z.string().nullable(),
  regions: z.record(z.string(), regionStateSchema),
  open: z.strictObject({
    down: incidentSchema.nullable(),
    degraded: incidentSchema.nullable(),
    stale: incidentSchema.nullable(),
  }).describe("The open incident of each kind: at most one each"),
});

export type AlertState = z.infer<typeof alertStateSchema>;
