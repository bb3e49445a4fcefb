/**
 * The JSON API's handlers: parameters validated with the schemas of `api_schema.ts` (a bad one is
 * a 400 naming it), answers in those schemas' types.
 *
 * @module
 */
import type { z } from "zod";
import type { CheckCursor, CheckRow, IncidentRow, ServeReads, SiteSummary } from "../db/reads.ts";
import * as schemas from "./api_schema.ts";

const DAY_MS = 86_400_000;

/** A request the API refuses: its status and message. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A request as the handlers see it. */
export interface ApiContext {
  readonly reads: ServeReads;
  readonly now: Date;
  /** SERVE_SHOW_URLS: URLs and error messages may name hosts and paths. */
  readonly showUrls: boolean;
  /** The site id of the path, decoded; "" when it has none. */
  readonly id: string;
  readonly url: URL;
}

/** The query's parameters, validated; an ApiError 400 names the first bad one and its value. */
export function parseQuery<T extends z.ZodType>(schema: T, url: URL): z.output<T> {
  const given = Object.fromEntries(url.searchParams);
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  if (issue?.code === "unrecognized_keys") {
    throw new ApiError(400, `Unknown query parameter ${JSON.stringify(issue.keys[0])}`);
  }
  const name = String(issue?.path[0]);
  const value = JSON.stringify(given[name]);
  throw new ApiError(
    400,
    `Bad query parameter "${name}": ${issue?.message}: current value is ${value}`,
  );
}

/** `from` and `to` with their defaults, checked: from before to, at most `maxDays` apart. */
function range(
  query: { from?: string | undefined; to?: string | undefined },
  now: Date,
  defaultMs: number,
  maxDays: number,
): { from: Date; to: Date } {
  const to = query.to === undefined ? now : new Date(query.to);
  const from = query.from === undefined ? new Date(to.getTime() - defaultMs) : new Date(query.from);
  if (from >= to) throw new ApiError(400, `Bad range: "from" must be before "to"`);
  if (to.getTime() - from.getTime() > maxDays * DAY_MS) {
    throw new ApiError(400, `Bad range: "from" and "to" must be at most ${maxDays} days apart`);
  }
  return { from, to };
}

/** A site's state from its regions' latest checks. */
export function statusOf(site: SiteSummary): z.output<typeof schemas.siteStatus> {
  const ups = site.regions.filter((region) => region.up).length;
  if (site.regions.length === 0) return "unknown";
  return ups === site.regions.length ? "up" : ups === 0 ? "down" : "partial";
}

function siteJson(site: SiteSummary, showUrls: boolean): z.output<typeof schemas.siteSchema> {
  return {
    id: site.siteId,
    name: site.name,
    ...(showUrls ? { url: site.url } : {}),
    status: statusOf(site),
    regions: site.regions.map((r) => ({ ...r, checkedAt: r.checkedAt.toISOString() })),
    uptime: site.uptime,
    responseTimeMs: { p50: site.responseTimeMsP50, p95: site.responseTimeMsP95 },
  };
}

/** `GET /api/v1/sites` */
export async function listSites(context: ApiContext) {
  const query = parseQuery(schemas.sitesQuery, context.url);
  const limit = query.limit ?? schemas.DEFAULT_LIMIT;
  const sites = await context.reads.sites({ after: query.after, limit, now: context.now });
  return {
    sites: sites.map((site) => siteJson(site, context.showUrls)),
    next: sites.length === limit ? sites.at(-1)!.siteId : null,
  };
}

/** `GET /api/v1/sites/{id}` */
export async function getSite(context: ApiContext) {
  return siteJson(await requireSite(context), context.showUrls);
}

/** The ApiError of a site that does not exist or is not shown. */
export function noSite(siteId: string): ApiError {
  return new ApiError(404, `No site ${JSON.stringify(siteId)}`);
}

/** An ApiError 404 unless the site exists and is shown; cheaper than {@link requireSite}. */
async function requireShown(context: ApiContext): Promise<void> {
  if (!await context.reads.shown(context.id)) throw noSite(context.id);
}

/** The site, if it exists and is shown; else an ApiError 404. */
export async function requireSite(context: ApiContext): Promise<SiteSummary> {
  const [site] = await context.reads.sites({ only: context.id, limit: 1, now: context.now });
  if (site === undefined) throw noSite(context.id);
  return site;
}

function encodeCursor(check: CheckRow): string {
  const text = JSON.stringify([check.checkedAt.toISOString(), check.checkId]);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): CheckCursor {
  try {
    const [at, id] = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    const checkedAt = new Date(at);
    if (
      typeof at === "string" && schemas.storableTime(checkedAt) && typeof id === "string" &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)
    ) return { checkedAt, checkId: id };
  } catch { /* answered below */ }
  throw new ApiError(400, 'Bad query parameter "cursor": must be the `next` of a previous answer');
}

function checkJson(check: CheckRow, showUrls: boolean): z.output<typeof schemas.checkSchema> {
  const { checkId, checkedAt, errorMessage, ...rest } = check;
  return {
    ...rest,
    id: checkId,
    checkedAt: checkedAt.toISOString(),
    ...(showUrls ? { errorMessage } : {}),
  };
}

/** `GET /api/v1/sites/{id}/checks`: newest first, a page at a time. */
export async function listChecks(context: ApiContext) {
  const query = parseQuery(schemas.checksQuery, context.url);
  const { from, to } = range(query, context.now, DAY_MS, 31);
  const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  await requireShown(context);
  const { limit = 100, region } = query;
  const siteId = context.id;
  const checks = await context.reads.checks({ siteId, from, to, limit, region, before });
  return {
    checks: checks.map((check) => checkJson(check, context.showUrls)),
    next: checks.length === limit ? encodeCursor(checks.at(-1)!) : null,
  };
}

/** `GET /api/v1/sites/{id}/uptime`: by hour or UTC day and region, from the rollups. */
export async function siteUptime(
  context: ApiContext,
): Promise<z.output<typeof schemas.uptimeAnswer>> {
  const query = parseQuery(schemas.uptimeQuery, context.url);
  const { bucket = "hour", region } = query;
  const { from, to } = bucket === "hour"
    ? range(query, context.now, DAY_MS, 31)
    : range(query, context.now, 90 * DAY_MS, 400);
  await requireShown(context);
  const rows = await context.reads.uptime({ siteIds: [context.id], from, to, bucket, region });
  return {
    bucket,
    from: from.toISOString(),
    to: to.toISOString(),
    buckets: rows.map(({ siteId: _, start, ...row }) => ({
      ...row,
      start: start.toISOString(),
      uptime: (row.checks - row.failures) / row.checks,
    })),
  };
}

function incidentJson(
  incident: IncidentRow,
  showUrls: boolean,
): z.output<typeof schemas.incidentSchema> {
  const { incidentId, openedAt, resolvedAt, causeMessage, ...rest } = incident;
  return {
    ...rest,
    regions: [...incident.regions],
    id: incidentId,
    openedAt: openedAt.toISOString(),
    resolvedAt: resolvedAt?.toISOString() ?? null,
    ...(showUrls ? { causeMessage } : {}),
  };
}

/** `GET /api/v1/incidents`: open now, or open at any time in a range. */
export async function listIncidents(context: ApiContext) {
  const query = parseQuery(schemas.incidentsQuery, context.url);
  const which = query.state === "all"
    ? { open: false as const, ...range(query, context.now, 30 * DAY_MS, 400) }
    : { open: true as const };
  const { limit = 100, site } = query;
  const rows = await context.reads.incidents({ ...which, limit, siteId: site });
  return { incidents: rows.map((incident) => incidentJson(incident, context.showUrls)) };
}
