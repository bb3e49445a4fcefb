/**
 * What the pages read: the status page's sites, their 90-day bars and the open incidents; a site's
 * charts, checks and incidents.
 *
 * @module
 */
import { z } from "zod";
import { UPTIME_WINDOWS, type UptimeWindow } from "../db/reads.ts";
import { type ApiContext, parseQuery, requireSite } from "./api.ts";
import { DEFAULT_LIMIT, sitesQuery } from "./api_schema.ts";
import { sitePage, statusPage } from "./page.ts";
import type { Day } from "./svg.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const BAR_DAYS = 90;

/** The UTC days of the bar, oldest first: the 89 before today, and today. */
function barDays(now: Date): string[] {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return Array.from(
    { length: BAR_DAYS },
    (_, i) => new Date(today - (BAR_DAYS - 1 - i) * DAY_MS).toISOString().slice(0, 10),
  );
}

/** The status page of `/?after=<id>`. */
export async function statusView(url: URL, context: ApiContext): Promise<string> {
  const query = parseQuery(sitesQuery.pick({ after: true }), url);
  const { now, reads } = context;
  const sites = await reads.sites({
    ...(query.after === undefined ? {} : { after: query.after }),
    limit: DEFAULT_LIMIT,
    now,
  });
  const names = barDays(now);
  const from = new Date(`${names[0]}T00:00:00Z`);
  const [counts, open] = await Promise.all([
    sites.length === 0 ? [] : reads.days({
      siteIds: sites.map((site) => site.siteId),
      from,
      to: new Date(from.getTime() + BAR_DAYS * DAY_MS),
    }),
    reads.incidents({ open: true, limit: 100 }),
  ]);
  const sums = new Map(counts.map((c) => [`${c.siteId}\n${c.day.toISOString().slice(0, 10)}`, c]));
  const days = new Map<string, Day[]>(sites.map((site) => [
    site.siteId,
    names.map((day) => {
      const { checks = 0, failures = 0 } = sums.get(`${site.siteId}\n${day}`) ?? {};
      return { day, checks, failures };
    }),
  ]));
  const shown = new Set(sites.map((site) => site.siteId));
  return statusPage({
    sites,
    days,
    // On a later page, only its sites' incidents; on the first, every one.
    open: query.after === undefined ? open : open.filter((i) => shown.has(i.siteId)),
    next: sites.length === DEFAULT_LIMIT ? sites.at(-1)!.siteId : null,
    now,
  });
}

const sitePageQuery = z.strictObject({
  window: z.enum(["24h", "7d", "30d", "90d"], "must be 24h, 7d, 30d or 90d").optional(),
  region: z.union([
    z.literal(""),
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "must be a region name"),
  ]).optional(),
});

/** The page of a site, `/sites/{id}?window=7d&region=eu`. */
export async function siteView(siteId: string, url: URL, context: ApiContext): Promise<string> {
  const query = parseQuery(sitePageQuery, url);
  const window: UptimeWindow = query.window ?? "24h";
  const region = query.region || null;
  const { now, reads } = context;
  const site = await requireSite(siteId, context);
  const hours = UPTIME_WINDOWS[window];
  const bucket = hours > 168 ? "day" : "hour";
  const to = new Date(now.getTime() + 1);
  const from = bucket === "hour"
    ? new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS)
    : new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS - (hours / 24 - 1) * DAY_MS);
  const only = region === null ? {} : { region };
  const [buckets, checks, incidents] = await Promise.all([
    reads.uptime({ siteIds: [siteId], from, to, bucket, ...only }),
    reads.checks({ siteId, from: new Date(now.getTime() - DAY_MS), to, limit: 20, ...only }),
    reads.incidents({
      siteId,
      open: false,
      from: new Date(now.getTime() - 90 * DAY_MS),
      to,
      limit: 20,
    }),
  ]);
  // The regions' averages weighted by checks: close enough to weighting by responses for a chart.
  const points = new Map<number, { checks: number; sums: number[]; weights: number[] }>();
  for (const b of buckets) {
    const values = [
      b.responseTimeMsAvg,
      b.dnsMsAvg,
      b.connectMsAvg,
      b.tlsMsAvg,
      b.firstByteMsAvg,
      b.transferMsAvg,
    ];
    const point = points.get(b.start.getTime()) ??
      { checks: 0, sums: values.map(() => 0), weights: values.map(() => 0) };
    values.forEach((value, k) => {
      if (value === null) return;
      point.sums[k]! += value * b.checks;
      point.weights[k]! += b.checks;
    });
    points.set(b.start.getTime(), point);
  }
  const average = (p: { sums: number[]; weights: number[] }, k: number) =>
    p.weights[k] === 0 ? null : p.sums[k]! / p.weights[k]!;
  return sitePage({
    site,
    window,
    region,
    regions: site.regions.map((r) => r.region),
    points: [...points].sort(([a], [b]) => a - b).map(([start, p]) => ({
      start: new Date(start),
      values: [average(p, 0)],
      phases: [1, 2, 3, 4, 5].map((k) => average(p, k)),
    })),
    checks,
    incidents,
    now,
  });
}
