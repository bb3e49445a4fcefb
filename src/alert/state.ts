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

/** A UTC time with milliseconds, as `toISOString()` writes it. */
export const utcTime = z.iso.datetime({ offset: false, precision: 3 });

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

/**
 * An incident as it opened (a `stale` one at the tick's time, with the regions last heard of). Its
 * `id` is unique, and the same however often the same events are applied: `<siteId>/<kind>/<checkId
 * that opened it>`, or `<siteId>/stale/after-<last checkId>` (`since-<epoch ms>` before a result).
 */
const incidentSchema = z.strictObject({
  id: z.string().min(1).max(255),
  siteId: z.string().min(1),
  kind: z.enum(INCIDENT_KINDS),
  openedAt: utcTime,
  openedByCheckId: z.string().nullable(),
  regions: z.array(z.string()),
  cause: incidentCauseSchema,
});

export type Incident = z.infer<typeof incidentSchema>;

/** What one event changed: an incident opened, or one resolved (by the check that resolved it). */
export type Transition =
  | { type: "opened"; incident: Incident }
  | { type: "resolved"; incident: Incident; resolvedAt: string; resolvedByCheckId: string };

/** What the machine keeps of a region: its newest check, its streaks (up to 100), its verdicts. */
const regionStateSchema = z.strictObject({
  lastCheckedAt: utcTime,
  lastCheckId: z.string(),
  failures: z.int().min(0),
  successes: z.int().min(0),
  down: z.boolean(),
  slowChecks: z.int().min(0),
  fastChecks: z.int().min(0),
  slow: z.boolean(),
});

export type RegionState = z.infer<typeof regionStateSchema>;

/** A site's alert state, as stored. Version 1. */
export const alertStateSchema = z.strictObject({
  version: z.literal(1),
  siteId: z.string().min(1),
  watchingSince: utcTime,
  latestCheckedAt: utcTime.nullable(),
  latestCheckId: z.string().nullable(),
  regions: z.record(z.string(), regionStateSchema),
  open: z.strictObject({
    down: incidentSchema.nullable(),
    degraded: incidentSchema.nullable(),
    stale: incidentSchema.nullable(),
  }),
});

export type AlertState = z.infer<typeof alertStateSchema>;
