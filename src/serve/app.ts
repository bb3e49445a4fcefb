/**
 * `monitor serve`'s request handler: routes to the API, the pages and the badges, with security
 * headers, ETags, the API's token and the metrics; tests call it with fake reads, clock and health.
 *
 * @module
 */
import type { ServeReads, UptimeWindow } from "../db/reads.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { CONTENT_TYPE } from "../prometheus.ts";
import * as api from "./api.ts";
import { badgeQuery, openApiDocument, siteIdParameter } from "./api_schema.ts";
import { type Body, hasToken, PAGE_POLICY, respond } from "./headers.ts";
import { siteView, statusView } from "./page.ts";
import { badge, percent, uptimeClass } from "./svg.ts";

/** What the handler works with. */
export interface ServeOptions {
  /** Undefined while the database is not reached: every read is then 503. */
  readonly reads: ServeReads | undefined;
  readonly now: () => Date;
  /** SERVE_SHOW_URLS. */
  readonly showUrls: boolean;
  /** SERVE_API_TOKEN: the API (and /metrics) then require it; null: open. */
  readonly apiToken: string | null;
  readonly metrics: Metrics;
  /** `/healthz`: each service's state, "ok" when it answers. */
  readonly health: () => Promise<Record<string, string>>;
  readonly log: Logger;
}

const JSON_TYPE = "application/json; charset=utf-8";
const MAX_AGE_S = 30;
const BADGE_MAX_AGE_S = 60;
const BADGE_TONES = { up: "up", down: "down", partial: "warn", unknown: "none" } as const;
const OPEN_API = JSON.stringify(openApiDocument());

/** A green dot: browsers ask for an icon, and a 404 would be a console error on every page. */
const FAVICON =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#2e7d32"/></svg>`;

/** The routes that read the database, by path pattern (a metrics label, so a bounded set). */
const READS: Record<string, (context: api.ApiContext) => Promise<Body>> = {
  "/api/v1/sites": async (context) => json(await api.listSites(context)),
  "/api/v1/sites/{id}": async (context) => json(await api.getSite(context)),
  "/api/v1/sites/{id}/checks": async (context) => json(await api.listChecks(context)),
  "/api/v1/sites/{id}/uptime": async (context) => json(await api.siteUptime(context)),
  "/api/v1/incidents": async (context) => json(await api.listIncidents(context)),
  "/": async (context) => page(await statusView(context)),
  "/sites/{id}": async (context) => page(await siteView(context)),
  "/badge/{id}/status.svg": async (context) => {
    const state = api.statusOf(await api.requireSite(context));
    return svg(badge("status", state, BADGE_TONES[state]));
  },
  "/badge/{id}/uptime.svg": async (context) => {
    const window: UptimeWindow = api.parseQuery(badgeQuery, context.url).window ?? "30d";
    const uptime = (await api.requireSite(context)).uptime[window];
    return svg(badge(`uptime ${window}`, percent(uptime), uptimeClass(uptime)));
  },
};

/** The routes that never read the database, so never wait for it. */
const FIXED: Record<string, (options: ServeOptions) => Body | Promise<Body>> = {
  "/api/v1/openapi.json": () => ({ contentType: JSON_TYPE, text: OPEN_API, maxAgeS: 3600 }),
  "/favicon.svg": () => svg(FAVICON),
  "/healthz": async (options) => {
    const report = await options.health();
    const healthy = Object.values(report).every((state) => state === "ok");
    return json(report, { status: healthy ? 200 : 503, maxAgeS: 0 });
  },
  "/metrics": (options) => {
    const text = options.metrics.registry.metrics();
    return { contentType: CONTENT_TYPE, text, maxAgeS: 0 };
  },
};

/** The routes behind SERVE_API_TOKEN: the API's reads, and the metrics. */
const TOKEN = new Set([
  ...Object.keys(READS).filter((path) => path.startsWith("/api/")),
  "/metrics",
]);

const PATTERNS = [...Object.keys(READS), ...Object.keys(FIXED)].map((path) =>
  [path, new RegExp(`^${path.replaceAll(".", "\\.").replace("{id}", "([^/]+)")}$`)] as const
);

/**
 * Most requests reading at once (the pool has 4 connections); more are refused, not queued: every
 * `?after=` is a new URL past caches, so nothing else bounds what anonymous requests cost.
 */
const MAX_READING = 4;

/** The route's pattern of a path and its site id, decoded; an ApiError when there is none. */
function match(pathname: string): { path: string; id: string } {
  for (const [path, pattern] of PATTERNS) {
    const found = pattern.exec(pathname);
    if (found === null) continue;
    let id = "";
    try {
      id = decodeURIComponent(found[1] ?? "");
    } catch {
      throw new api.ApiError(400, "Bad path: it is not valid percent-encoding");
    }
    // PostgreSQL answers some characters (NUL) with an error.
    if (found[1] !== undefined && !siteIdParameter.safeParse(id).success) throw api.noSite(id);
    return { path, id };
  }
  throw new api.ApiError(404, `Nothing at ${JSON.stringify(pathname)}`);
}

/** A JSON body, kept by caches for {@link MAX_AGE_S} unless `options` say otherwise. */
function json(value: unknown, options: Partial<Omit<Body, "contentType" | "text">> = {}): Body {
  return { contentType: JSON_TYPE, text: JSON.stringify(value), maxAgeS: MAX_AGE_S, ...options };
}

/** An error's body, never cached, with the headers that say what to do about it. */
function refusal(status: number, error: string, headers: Record<string, string> = {}): Body {
  return json({ error }, { status, maxAgeS: 0, headers });
}

function page(text: string): Body {
  return { contentType: "text/html; charset=utf-8", text, maxAgeS: MAX_AGE_S, policy: PAGE_POLICY };
}

function svg(text: string): Body {
  const contentType = "image/svg+xml; charset=utf-8";
  return { contentType, text, maxAgeS: BADGE_MAX_AGE_S, embeddable: true };
}

/** The handler: a function from request to response that never throws. */
export function serveHandler(options: ServeOptions): (request: Request) => Promise<Response> {
  let reading = 0;
  return async (request) => {
    const started = performance.now();
    let route = "other";
    let body: Body;
    try {
      const url = new URL(request.url);
      const { path, id } = match(url.pathname);
      route = path;
      const fixed = FIXED[path];
      body = refusalOf(request, path) ??
        (fixed === undefined ? await read(path, id, url) : await fixed(options));
    } catch (error) {
      body = failure(error);
    }
    const response = respond(request, body);
    options.metrics.serveRequests.inc({ route, status: String(response.status) });
    options.metrics.serveDuration.observe({ route }, (performance.now() - started) / 1000);
    return response;
  };

  /** Why the method or the token refuses the request, if they do. */
  function refusalOf(request: Request, path: string): Body | undefined {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return refusal(405, `Method ${request.method} is not allowed: use GET`, {
        allow: "GET, HEAD",
      });
    }
    if (TOKEN.has(path) && options.apiToken !== null && !hasToken(request, options.apiToken)) {
      return refusal(401, "Unauthorized: send the API token as Authorization: Bearer <token>", {
        "www-authenticate": 'Bearer realm="monitor"',
      });
    }
  }

  async function read(path: string, id: string, url: URL): Promise<Body> {
    if (options.reads === undefined) {
      return refusal(503, "The database is not reached yet; try again later", {
        "retry-after": "5",
      });
    }
    if (reading >= MAX_READING) {
      return refusal(503, "Too many requests at once: try again in a second", {
        "retry-after": "1",
      });
    }
    reading++;
    try {
      const { reads, showUrls } = options;
      const body = await READS[path]!({ reads, now: options.now(), showUrls, id, url });
      // Behind a token, a shared cache must not keep what one client was allowed to see.
      return TOKEN.has(path) && options.apiToken !== null ? { ...body, private: true } : body;
    } finally {
      reading--;
    }
  }

  function failure(error: unknown): Body {
    if (error instanceof api.ApiError) return refusal(error.status, error.message);
    options.metrics.serveDatabaseErrors.inc();
    options.log.error("request failed", { error: (error as Error)?.message ?? String(error) });
    return refusal(503, "The database did not answer; try again later");
  }
}
