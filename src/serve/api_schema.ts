/**
 * The JSON API's parameters and answers as zod schemas: the handlers validate with them and take
 * their types, and `/api/v1/openapi.json` is generated from them, so it cannot drift from them.
 *
 * @module
 */
import { z } from "zod";
import { VERSION } from "../version.ts";

const MAX_LIMIT = 200;
/** Sites in a page of the API by default, and in a page of the status page. */
export const DEFAULT_LIMIT = 50;

const timestamp = z.string().meta({ format: "date-time" });
const ms = z.number().nullable();

/** Whether PostgreSQL can take this instant: ISO 8601 also allows years 0000 and 10000. */
export function storableTime(date: Date): boolean {
  const year = date.getUTCFullYear();
  return year >= 1 && year <= 9999;
}

const instant = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 time with a time zone, such as 2026-12-06T10:00:00Z",
}).refine((text) => storableTime(new Date(text)), "must be a time from year 1 to 9999 (UTC)");

function limitParameter(most: number, description: string) {
  const rule = `must be an integer from 1 to ${most}`;
  return z.string().regex(/^\d{1,6}$/, rule).transform(Number)
    .pipe(z.number().min(1, rule).max(most, rule)).optional().describe(description);
}

const regionParameter = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
  'must be a region name: a letter or digit, then up to 62 letters, digits, ".", "_" or "-"',
).optional().describe("Only this region's checks");

/** A site id, as the sites file allows it. */
export const siteIdParameter = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  "must be a site id",
);

/** `GET /api/v1/sites` */
export const sitesQuery = z.strictObject({
  limit: limitParameter(MAX_LIMIT, `Most sites (default ${DEFAULT_LIMIT})`),
  after: siteIdParameter.optional().describe("Sites after this id: the previous answer's `next`"),
});

/** `GET /api/v1/sites/{id}/checks` */
export const checksQuery = z.strictObject({
  from: instant.optional().describe("Checks at or after this time (default: 24 hours before `to`)"),
  to: instant.optional().describe(
    "Checks before this time (default: now); at most 31 days after `from`",
  ),
  region: regionParameter,
  limit: limitParameter(1000, "Most checks (default 100)"),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, "must be the `next` of a previous answer")
    .optional().describe("Where to continue: the previous answer's `next`"),
});

/** `GET /api/v1/sites/{id}/uptime` */
export const uptimeQuery = z.strictObject({
  bucket: z.enum(["hour", "day"], "must be hour or day").optional()
    .describe("One bucket an hour or a UTC day (default hour)"),
  from: instant.optional().describe(
    "Start (default: 24 hours before `to` by hour, 90 days by day); at most 31 days before `to` by hour, 400 by day",
  ),
  to: instant.optional().describe("End, exclusive (default: now)"),
  region: regionParameter,
});

/** `GET /api/v1/incidents` */
export const incidentsQuery = z.strictObject({
  state: z.enum(["open", "all"], "must be open or all").optional()
    .describe("`open` (default): open now; `all`: open at any time in [from, to)"),
  from: instant.optional().describe("With state=all: start (default: 30 days before `to`)"),
  to: instant.optional().describe(
    "With state=all: end (default: now); at most 400 days after `from`",
  ),
  site: siteIdParameter.optional().describe("Only this site's incidents"),
  limit: limitParameter(MAX_LIMIT, "Most incidents (default 100)"),
});

/** The window of an uptime badge (and of a site's page). */
export const badgeQuery = z.strictObject({
  window: z.enum(["24h", "7d", "30d", "90d"], "must be 24h, 7d, 30d or 90d").optional(),
});

/** A site's state: every region's latest check up, all down, some down, or no recent check. */
export const siteStatus = z.enum(["up", "down", "partial", "unknown"]);

/** One check. */
export const checkSchema = z.object({
  id: z.string(),
  checkedAt: timestamp,
  region: z.string(),
  up: z.boolean(),
  statusCode: z.number().nullable(),
  responseTimeMs: ms,
  dnsMs: ms,
  connectMs: ms,
  tlsMs: ms,
  firstByteMs: ms,
  transferMs: ms,
  errorKind: z.string().nullable(),
  errorMessage: z.string().nullable().optional().describe("Only when SERVE_SHOW_URLS is true"),
}).meta({ id: "Check" });

/** One site in the API. */
export const siteSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string().optional().describe("Only when SERVE_SHOW_URLS is true"),
  status: siteStatus,
  regions: z.array(checkSchema.pick({
    region: true,
    checkedAt: true,
    up: true,
    statusCode: true,
    responseTimeMs: true,
    errorKind: true,
  })).describe("Each region's latest check in the last day"),
  uptime: z.object({ "24h": ms, "7d": ms, "30d": ms, "90d": ms })
    .describe("Share of checks up (0 to 1), null without checks"),
  responseTimeMs: z.object({ p50: ms, p95: ms }).describe("Over 24 hours, within 4.5 %"),
}).meta({ id: "Site" });

const sitesAnswer = z.object({
  sites: z.array(siteSchema),
  next: z.string().nullable().describe("`after` for the next page; null on the last"),
});

const checksAnswer = z.object({
  checks: z.array(checkSchema),
  next: z.string().nullable().describe("`cursor` for the next page; null on the last"),
});

/** Uptime by bucket. */
export const uptimeAnswer = z.object({
  bucket: z.enum(["hour", "day"]),
  from: timestamp,
  to: timestamp,
  buckets: z.array(z.object({
    start: timestamp,
    region: z.string(),
    checks: z.number(),
    failures: z.number(),
    uptime: z.number(),
    responseTimeMsAvg: ms,
    responseTimeMsP95: ms,
    dnsMsAvg: ms,
    connectMsAvg: ms,
    tlsMsAvg: ms,
    firstByteMsAvg: ms,
    transferMsAvg: ms,
  })),
});

/** One incident. */
export const incidentSchema = z.object({
  id: z.string(),
  siteId: z.string(),
  kind: z.string(),
  severity: z.string(),
  regions: z.array(z.string()),
  openedAt: timestamp,
  resolvedAt: timestamp.nullable(),
  causeErrorKind: z.string().nullable(),
  causeStatusCode: z.number().nullable(),
  causeMessage: z.string().optional().describe("Only when SERVE_SHOW_URLS is true"),
}).meta({ id: "Incident" });

const incidentsAnswer = z.object({ incidents: z.array(incidentSchema) });

const errorAnswer = z.object({ error: z.string() }).meta({ id: "Error" });

type JsonSchema = Record<string, unknown>;

/** The API's operations; a `{id}` in the path is the site's id. */
const OPERATIONS: [path: string, summary: string, answer: z.ZodType, query?: z.ZodObject][] = [
  ["/api/v1/sites", "Sites with state and uptime, by id", sitesAnswer, sitesQuery],
  ["/api/v1/sites/{id}", "One site", siteSchema],
  ["/api/v1/sites/{id}/checks", "A site's checks, newest first", checksAnswer, checksQuery],
  [
    "/api/v1/sites/{id}/uptime",
    "A site's uptime by hour or UTC day and region",
    uptimeAnswer,
    uptimeQuery,
  ],
  ["/api/v1/incidents", "Incidents open now, or in a range", incidentsAnswer, incidentsQuery],
];

/** Zod's JSON Schema of `schema`; the schemas it names (`.meta({ id })`) go into `components`. */
function jsonSchema(schema: z.ZodType, io: "input" | "output", components: JsonSchema): JsonSchema {
  const text = JSON.stringify(z.toJSONSchema(schema, { io, target: "draft-2020-12" }));
  const json = JSON.parse(text.replaceAll('"#/$defs/', '"#/components/schemas/'));
  const { $schema: _, $defs, ...rest } = json;
  Object.assign(components, $defs);
  return rest;
}

const SITE_ID = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "The site's id",
};

function queryParameters(schema: z.ZodObject): JsonSchema[] {
  const { properties = {} } = jsonSchema(schema, "input", {}) as {
    properties?: Record<string, JsonSchema>;
  };
  return Object.entries(properties).map(([name, { description, ...parameter }]) => ({
    name,
    in: "query",
    required: false,
    ...(description === undefined ? {} : { description }),
    schema: parameter,
  }));
}

/** The OpenAPI document, as JSON would carry it. */
export function openApiDocument(): JsonSchema {
  const components: JsonSchema = {};
  const answer = (description: string, schema: JsonSchema) => ({
    description,
    content: { "application/json": { schema } },
  });
  const error = { $ref: "#/components/schemas/Error" };
  jsonSchema(errorAnswer, "output", components);
  const paths = Object.fromEntries(OPERATIONS.map(([path, summary, schema, query]) => [path, {
    get: {
      summary,
      parameters: [
        ...(path.includes("{id}") ? [SITE_ID] : []),
        ...(query === undefined ? [] : queryParameters(query)),
      ],
      responses: {
        "200": answer("OK", jsonSchema(schema, "output", components)),
        "304": { description: "Not modified (If-None-Match named the ETag)" },
        "400": answer("A bad parameter, named in the message", error),
        "401": answer("SERVE_API_TOKEN is set and the request lacks it", error),
        "404": answer("No such site (or not shown)", error),
      },
    },
  }]));
  return {
    openapi: "3.1.0",
    info: {
      title: "website-monitor",
      version: VERSION,
      description:
        "Read-only: the sites, checks, uptime and incidents that `monitor serve` shows. With SERVE_API_TOKEN set, every request needs `Authorization: Bearer <token>`.",
    },
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    security: [{}, { bearer: [] }],
    paths,
  };
}
