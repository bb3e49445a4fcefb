/**
 * The pages, rendered on the server without script: `/`, the sites with their 90-day bars and the
 * open incidents; `/sites/{id}`, one site's charts, checks and incidents.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import {
  type IncidentRow,
  type SiteSummary,
  UPTIME_WINDOWS,
  type UptimeBucket,
  type UptimeWindow,
} from "../db/reads.ts";
import { type ApiContext, parseQuery, requireSite, statusOf } from "./api.ts";
import { badgeQuery, DEFAULT_LIMIT, sitesQuery } from "./api_schema.ts";
import { type Day, dayBar, html, percent, type Point, stackedBars } from "./svg.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const BAR_DAYS = 90;
const STATE_WORDS = { up: "Up", down: "Down", partial: "Partly down", unknown: "No recent check" };
/** The charts' values: the average response time, then the phases. */
const AVERAGES = [
  "responseTimeMsAvg",
  "dnsMsAvg",
  "connectMsAvg",
  "tlsMsAvg",
  "firstByteMsAvg",
  "transferMsAvg",
] as const;
const PHASES = ["DNS", "connect", "TLS", "first byte", "transfer"];

/** The one stylesheet, inline: light and dark by `prefers-color-scheme`, one column on a phone. */
const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--up:#1a7f37;--ok:#6b8e23;--warn:#9a6700;--down:#cf222e;--none:#8c959f;--l0:#0969da;--l1:#8250df;--l2:#bf3989;--l3:#1a7f37;--l4:#9a6700}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--up:#3fb950;--ok:#a5d6a7;--warn:#d29922;--down:#f85149;--none:#484f58;--l0:#4493f8;--l1:#ab7df8;--l2:#f778ba;--l3:#3fb950;--l4:#d29922}}
body{margin:0 auto;max-width:60rem;padding:1rem;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,sans-serif}
a{color:var(--l0)}h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem;margin:0}
.muted,figcaption,footer{color:var(--muted);font-size:.875rem}
.site{border-top:1px solid var(--line);padding:.75rem 0}
.state{display:inline-block;border-radius:1rem;padding:0 .6rem;font-size:.8rem;font-weight:600;color:#fff;margin-left:.4rem}
.state.up{background:var(--up)}.state.down{background:var(--down)}.state.partial{background:var(--warn)}.state.unknown{background:#57606a}
.bar{width:100%;height:1.5rem;display:block;margin:.4rem 0}
rect.up{fill:var(--up)}rect.ok{fill:var(--ok)}rect.warn{fill:var(--warn)}rect.down{fill:var(--down)}rect.none{fill:var(--none)}
dl{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;margin:0}dl div{display:flex;gap:.35rem}dt{color:var(--muted)}dd{margin:0;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid var(--line)}
.scroll{overflow-x:auto}
figure{margin:1rem 0}.chart{width:100%;height:auto}.axis{stroke:var(--line)}
.layer0{fill:var(--l0);background:var(--l0)}.layer1{fill:var(--l1);background:var(--l1)}.layer2{fill:var(--l2);background:var(--l2)}.layer3{fill:var(--l3);background:var(--l3)}.layer4{fill:var(--l4);background:var(--l4)}
.key{display:inline-block;width:.8rem;height:.8rem;margin:0 .25rem 0 .75rem;vertical-align:middle}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}label{display:flex;flex-direction:column;font-size:.875rem}
select,button{font:inherit;padding:.2rem .4rem}
ul.badges{list-style:none;padding:0}ul.badges li{margin:.4rem 0}img.badge{vertical-align:middle;margin-right:.5rem}
@media (max-width:40rem){body{padding:.5rem}th,td{padding:.25rem}}
`;

/** The pages' Content-Security-Policy: no script, and no style but {@link STYLE}, by its hash. */
export const PAGE_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`,
  "img-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** A duration for people: `3 d 4 h`, `2 h 5 min`, `40 s`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60];
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return m > 0 ? `${m} min` : `${s} s`;
}

function time(at: Date): string {
  const text = `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `<time datetime="${at.toISOString()}">${text}</time>`;
}

function document(title: string, main: string, now: Date): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><meta name="referrer" content="no-referrer"><link rel="icon" href="/favicon.svg" type="image/svg+xml"><title>${
    html(title)
  }</title><style>${STYLE}</style></head>
<body><main>${main}</main><footer><p>As of ${time(now)}.</p></footer></body></html>
`;
}

function stateBadge(site: SiteSummary): string {
  const state = statusOf(site);
  return `<span class="state ${state}">${STATE_WORDS[state]}</span>`;
}

function regionsLine(site: SiteSummary): string {
  if (site.regions.length === 0) return "";
  const parts = site.regions.map((r) =>
    `${html(r.region)}: ${r.up ? "up" : `down (${html(r.errorKind ?? "error")})`}`
  );
  return `<p class="muted">${parts.join(" · ")}</p>`;
}

function windowsList(site: SiteSummary): string {
  const ms = (v: number | null) => v === null ? "–" : v.toFixed(0);
  const terms = Object.entries(site.uptime).map(([window, uptime]) => [window, percent(uptime)]);
  const p50 = ms(site.responseTimeMsP50);
  terms.push(["p50 / p95 (24h)", `${p50} / ${ms(site.responseTimeMsP95)} ms`]);
  return `<dl>${terms.map(([dt, dd]) => `<div><dt>${dt}</dt><dd>${dd}</dd></div>`).join("")}</dl>`;
}

function incidentList(rows: readonly IncidentRow[], now: Date, names: Map<string, string>) {
  if (rows.length === 0) return `<p>None.</p>`;
  const items = rows.map((i) => {
    const site = names.get(i.siteId) ?? i.siteId;
    const how = i.resolvedAt === null
      ? `open for ${duration(now.getTime() - i.openedAt.getTime())}`
      : `lasted ${duration(i.resolvedAt.getTime() - i.openedAt.getTime())}`;
    const cause = i.causeErrorKind ??
      (i.causeStatusCode === null ? "" : `HTTP ${i.causeStatusCode}`);
    return `<li><strong>${html(site)}</strong>: ${html(i.kind)} (${html(i.severity)}${
      cause === "" ? "" : `, ${html(cause)}`
    }) in ${html(i.regions.join(", ") || "–")}, since ${time(i.openedAt)}, ${how}</li>`;
  });
  return `<ul>${items.join("")}</ul>`;
}

/** Each site's last 90 UTC days, oldest first, today last; a day without checks has none. */
async function barDays(sites: readonly SiteSummary[], context: ApiContext) {
  const today = Math.floor(context.now.getTime() / DAY_MS) * DAY_MS;
  const from = new Date(today - (BAR_DAYS - 1) * DAY_MS);
  const siteIds = sites.map((site) => site.siteId);
  const to = new Date(from.getTime() + BAR_DAYS * DAY_MS);
  const counts = sites.length === 0 ? [] : await context.reads.days({ siteIds, from, to });
  const dayName = (at: number) => new Date(at).toISOString().slice(0, 10);
  const found = new Map(counts.map((c) => [`${c.siteId}\n${dayName(c.day.getTime())}`, c]));
  const names = Array.from({ length: BAR_DAYS }, (_, i) => dayName(from.getTime() + i * DAY_MS));
  return new Map<string, Day[]>(siteIds.map((siteId) => [
    siteId,
    names.map((day) => {
      const { checks = 0, failures = 0 } = found.get(`${siteId}\n${day}`) ?? {};
      return { day, checks, failures };
    }),
  ]));
}

/** The status page of `/?after=<id>`. */
export async function statusView(context: ApiContext): Promise<string> {
  const { after } = parseQuery(sitesQuery.pick({ after: true }), context.url);
  const { now, reads } = context;
  const sites = await reads.sites({ after, limit: DEFAULT_LIMIT, now });
  const [days, allOpen] = await Promise.all([
    barDays(sites, context),
    reads.incidents({ open: true, limit: 100 }),
  ]);
  const names = new Map(sites.map((s) => [s.siteId, s.name]));
  // On a later page, only its sites' incidents; on the first, every one.
  const open = after === undefined ? allOpen : allOpen.filter((i) => names.has(i.siteId));
  const down = sites.filter((site) => statusOf(site) !== "up" && site.regions.length > 0);
  const summary = open.length === 0 && down.length === 0
    ? "All systems operational"
    : `${open.length} open incident${open.length === 1 ? "" : "s"}`;
  const articles = sites.map((site) => {
    const id = encodeURIComponent(site.siteId);
    return `<article class="site"><h3><a href="/sites/${id}">${html(site.name)}</a>${
      stateBadge(site)
    }</h3>${regionsLine(site)}${
      dayBar(days.get(site.siteId) ?? [], `${site.name}: uptime per day, last 90 days`)
    }${windowsList(site)}</article>`;
  });
  const next = sites.length < DEFAULT_LIMIT
    ? ""
    : `<nav><a href="/?after=${encodeURIComponent(sites.at(-1)!.siteId)}">Next sites</a></nav>`;
  return document(
    "Status",
    `<h1>Status</h1><p>${summary}</p><section aria-labelledby="incidents"><h2 id="incidents">Open incidents</h2>${
      incidentList(open, now, names)
    }</section><section aria-labelledby="sites"><h2 id="sites">Sites</h2>${
      articles.join("") || "<p>No sites yet.</p>"
    }${next}</section>`,
    now,
  );
}

const regionName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "must be a region name");
const sitePageQuery = badgeQuery.extend({ region: z.literal("").or(regionName).optional() });

/** Each bucket's {@link AVERAGES} over the regions, weighted by checks (close enough for a chart). */
function chartPoints(buckets: readonly UptimeBucket[]): Point[] {
  const starts = [...new Set(buckets.map((b) => b.start.getTime()))].sort((a, b) => a - b);
  return starts.map((start) => {
    const same = buckets.filter((b) => b.start.getTime() === start);
    const values = AVERAGES.map((field) => {
      const known = same.filter((b) => b[field] !== null);
      const weight = known.reduce((sum, b) => sum + b.checks, 0);
      return weight === 0 ? null : known.reduce((sum, b) => sum + b[field]! * b.checks, 0) / weight;
    });
    return { start: new Date(start), values };
  });
}

/** The site's badges as they look, with the paths to embed them by. */
function badges(site: SiteSummary): string {
  const id = encodeURIComponent(site.siteId);
  const item = (path: string, alt: string) =>
    `<li><img class="badge" src="${html(path)}" alt="${html(alt)}"> <code>${
      html(path)
    }</code></li>`;
  return `<section aria-labelledby="badges"><h2 id="badges">Badges</h2><ul class="badges">${
    item(`/badge/${id}/status.svg`, `status: ${statusOf(site)}`)
  }${
    item(`/badge/${id}/uptime.svg?window=30d`, `uptime 30d: ${percent(site.uptime["30d"])}`)
  }</ul></section>`;
}

/** The page of a site, `/sites/{id}?window=7d&region=eu`. */
export async function siteView(context: ApiContext): Promise<string> {
  const query = parseQuery(sitePageQuery, context.url);
  const window: UptimeWindow = query.window ?? "24h";
  const region = query.region || undefined;
  const { now, reads, id: siteId } = context;
  const site = await requireSite(context);
  const hours = UPTIME_WINDOWS[window];
  const bucket = hours > 168 ? "day" : "hour";
  const to = new Date(now.getTime() + 1);
  const from = bucket === "hour"
    ? new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS)
    : new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS - (hours / 24 - 1) * DAY_MS);
  const ninetyDaysAgo = new Date(now.getTime() - 90 * DAY_MS);
  const [buckets, checks, incidents] = await Promise.all([
    reads.uptime({ siteIds: [siteId], from, to, bucket, region }),
    reads.checks({ siteId, from: new Date(now.getTime() - DAY_MS), to, limit: 20, region }),
    reads.incidents({ siteId, open: false, from: ninetyDaysAgo, to, limit: 20 }),
  ]);
  const points = chartPoints(buckets);
  const option = (value: string, text: string, chosen: boolean) =>
    `<option value="${html(value)}"${chosen ? " selected" : ""}>${html(text)}</option>`;
  const form = `<form method="get"><label>Window<select name="window">${
    ["24h", "7d", "30d", "90d"].map((w) => option(w, w, w === window)).join("")
  }</select></label><label>Region<select name="region">${option("", "all", region === undefined)}${
    site.regions.map((r) => option(r.region, r.region, r.region === region)).join("")
  }</select></label><button type="submit">Show</button></form>`;
  const rows = checks.map((c) =>
    `<tr><td>${time(c.checkedAt)}</td><td>${html(c.region)}</td><td>${
      c.up ? "up" : "down"
    }</td><td>${c.statusCode ?? "–"}</td><td>${c.responseTimeMs?.toFixed(0) ?? "–"}</td><td>${
      html(c.errorKind ?? "")
    }</td></tr>`
  );
  const where = region === undefined ? "all regions" : `region ${region}`;
  return document(
    `${site.name}: status`,
    `<p><a href="/">All sites</a></p><h1>${html(site.name)}${stateBadge(site)}</h1>${
      regionsLine(site)
    }${windowsList(site)}<h2>Last ${window}, ${html(where)}</h2>${form}${
      stackedBars(points.map((p) => ({ start: p.start, values: p.values.slice(0, 1) })), {
        layers: ["average response time"],
        label: `Average response time, last ${window}, ${where}`,
      })
    }${
      stackedBars(points.map((p) => ({ start: p.start, values: p.values.slice(1) })), {
        layers: PHASES,
        label: `Average time of each phase, last ${window}, ${where}`,
      })
    }<h2>Latest checks</h2><div class="scroll"><table><thead><tr><th scope="col">Time</th><th scope="col">Region</th><th scope="col">State</th><th scope="col">HTTP</th><th scope="col">ms</th><th scope="col">Error</th></tr></thead><tbody>${
      rows.join("") || `<tr><td colspan="6">No checks in the last day.</td></tr>`
    }</tbody></table></div><section aria-labelledby="incidents-90d"><h2 id="incidents-90d">Incidents, last 90 days</h2>${
      incidentList(incidents, now, new Map([[site.siteId, site.name]]))
    }</section>${badges(site)}`,
    now,
  );
}
