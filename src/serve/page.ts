/**
 * The pages, rendered on the server without script: `/`, the shown sites and open incidents;
 * `/sites/{id}`, one site's charts, checks and incidents. Database text passes through {@link html}.
 *
 * @module
 */
import type { CheckRow, IncidentRow, SiteSummary, UptimeWindow } from "../db/reads.ts";
import { statusOf } from "./api.ts";
import { html } from "./escape.ts";
import { STYLE } from "./style.ts";
import { type Day, dayBar, percent, type Point, stackedBars } from "./svg.ts";

const STATE_WORDS = { up: "Up", down: "Down", partial: "Partly down", unknown: "No recent check" };

/**
 * A duration for people: `3 d 4 h`, `2 h 5 min`, `40 s`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { duration } from "./page.ts";
 * assert.equal(duration(7_500_000), "2 h 5 min");
 * ```
 */
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
  const cells = (Object.keys(site.uptime) as UptimeWindow[]).map((w) =>
    `<div><dt>${w}</dt><dd>${percent(site.uptime[w])}</dd></div>`
  );
  const ms = (v: number | null) => v === null ? "–" : v.toFixed(0);
  cells.push(
    `<div><dt>p50 / p95 (24h)</dt><dd>${ms(site.responseTimeMsP50)} / ${
      ms(site.responseTimeMsP95)
    } ms</dd></div>`,
  );
  return `<dl>${cells.join("")}</dl>`;
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

/** What the status page shows. */
export interface StatusPage {
  readonly sites: readonly SiteSummary[];
  /** Each site's last 90 days, oldest first. */
  readonly days: ReadonlyMap<string, readonly Day[]>;
  readonly open: readonly IncidentRow[];
  /** The query of the next page, or null on the last. */
  readonly next: string | null;
  readonly now: Date;
}

/** The status page's HTML document. */
export function statusPage(page: StatusPage): string {
  const down = page.sites.filter((site) => statusOf(site) !== "up" && site.regions.length > 0);
  const summary = page.open.length === 0 && down.length === 0
    ? "All systems operational"
    : `${page.open.length} open incident${page.open.length === 1 ? "" : "s"}`;
  const names = new Map(page.sites.map((s) => [s.siteId, s.name]));
  const articles = page.sites.map((site) => {
    const id = encodeURIComponent(site.siteId);
    return `<article class="site"><h3><a href="/sites/${id}">${html(site.name)}</a>${
      stateBadge(site)
    }</h3>${regionsLine(site)}${
      dayBar(page.days.get(site.siteId) ?? [], `${site.name}: uptime per day, last 90 days`)
    }${windowsList(site)}</article>`;
  });
  const next = page.next === null
    ? ""
    : `<nav><a href="/?after=${encodeURIComponent(page.next)}">Next sites</a></nav>`;
  return document(
    "Status",
    `<h1>Status</h1><p>${summary}</p><section aria-labelledby="incidents"><h2 id="incidents">Open incidents</h2>${
      incidentList(page.open, page.now, names)
    }</section><section aria-labelledby="sites"><h2 id="sites">Sites</h2>${
      articles.join("") || "<p>No sites yet.</p>"
    }${next}</section>`,
    page.now,
  );
}

/** What a site's page shows. */
export interface SitePage {
  readonly site: SiteSummary;
  readonly window: UptimeWindow;
  readonly region: string | null;
  /** The region names to choose from. */
  readonly regions: readonly string[];
  /** Buckets of the window: response time and phases. */
  readonly points: readonly (Point & { readonly phases: readonly (number | null)[] })[];
  readonly checks: readonly CheckRow[];
  readonly incidents: readonly IncidentRow[];
  readonly now: Date;
}

const PHASES = ["DNS", "connect", "TLS", "first byte", "transfer"];

/** The site's badges as they look, with the paths to embed them by. */
function badges(site: SiteSummary): string {
  const id = encodeURIComponent(site.siteId);
  const paths = [`/badge/${id}/status.svg`, `/badge/${id}/uptime.svg?window=30d`];
  const alts = [`status: ${statusOf(site)}`, `uptime 30d: ${percent(site.uptime["30d"])}`];
  const items = paths.map((path, i) =>
    `<li><img class="badge" src="${html(path)}" alt="${html(alts[i]!)}"> <code>${
      html(path)
    }</code></li>`
  );
  return `<section aria-labelledby="badges"><h2 id="badges">Badges</h2><ul class="badges">${
    items.join("")
  }</ul></section>`;
}

/** A site's page's HTML document. */
export function sitePage(page: SitePage): string {
  const { site } = page;
  const option = (value: string, text: string, chosen: boolean) =>
    `<option value="${html(value)}"${chosen ? " selected" : ""}>${html(text)}</option>`;
  const form = `<form method="get"><label>Window<select name="window">${
    ["24h", "7d", "30d", "90d"].map((w) => option(w, w, w === page.window)).join("")
  }</select></label><label>Region<select name="region">${option("", "all", page.region === null)}${
    page.regions.map((r) => option(r, r, r === page.region)).join("")
  }</select></label><button type="submit">Show</button></form>`;
  const rows = page.checks.map((c) =>
    `<tr><td>${time(c.checkedAt)}</td><td>${html(c.region)}</td><td>${
      c.up ? "up" : "down"
    }</td><td>${c.statusCode ?? "–"}</td><td>${c.responseTimeMs?.toFixed(0) ?? "–"}</td><td>${
      html(c.errorKind ?? "")
    }</td></tr>`
  );
  const where = page.region === null ? "all regions" : `region ${page.region}`;
  return document(
    `${site.name}: status`,
    `<p><a href="/">All sites</a></p><h1>${html(site.name)}${stateBadge(site)}</h1>${
      regionsLine(site)
    }${windowsList(site)}<h2>Last ${page.window}, ${html(where)}</h2>${form}${
      stackedBars(page.points.map((p) => ({ start: p.start, values: p.values })), {
        layers: ["average response time"],
        label: `Average response time, last ${page.window}, ${where}`,
      })
    }${
      stackedBars(page.points.map((p) => ({ start: p.start, values: p.phases })), {
        layers: PHASES,
        label: `Average time of each phase, last ${page.window}, ${where}`,
      })
    }<h2>Latest checks</h2><div class="scroll"><table><thead><tr><th scope="col">Time</th><th scope="col">Region</th><th scope="col">State</th><th scope="col">HTTP</th><th scope="col">ms</th><th scope="col">Error</th></tr></thead><tbody>${
      rows.join("") || `<tr><td colspan="6">No checks in the last day.</td></tr>`
    }</tbody></table></div><section aria-labelledby="incidents-90d"><h2 id="incidents-90d">Incidents, last 90 days</h2>${
      incidentList(page.incidents, page.now, new Map([[site.siteId, site.name]]))
    }</section>${badges(site)}`,
    page.now,
  );
}
