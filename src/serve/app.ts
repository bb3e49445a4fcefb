/**
 * `monitor serve`'s request handler: routes to the API, the pages and the badges, with security
 * headers, ETags, the API's token and the metrics; tests call it with fake reads, clock and health.
 *
 * @module
 */
import type { UptimeWindow } from "../db/reads.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { CONTENT_TYPE } from "../prometheus.ts";
import {
  type ApiContext,
  ApiError,
  getSite,
  listChecks,
  listIncidents,
  listSites,
  parseQuery,
  requireSite,
  siteUptime,
  statusOf,
} from "./api.ts";
import { badgeQuery, siteIdParameter } from "./api_schema.ts";
import { type Body, hasToken, pagePolicy, respond } from "./headers.ts";
import { openApiDocument } from "./openapi.ts";
import { siteView, statusView } from "./views.ts";
import { STYLE_HASH } from "./style.ts";
import { badge, percent, uptimeClass } from "./svg.ts";
import type { ServeReads } from "./source.ts";

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
const API_MAX_AGE_S = 30;
const PAGE_MAX_AGE_S = 30;
const BADGE_MAX_AGE_S = 60;

/** A green dot: browsers ask for an icon, and a 404 would be a console error on every page. */
const FAVICON =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#2e7d32"/></svg>`;

/** Every route by its path pattern, which labels the metrics (so their number is bounded). */
const ROUTES = {
  sites: "/api/v1/sites",
  site: "/api/v1/sites/{id}",
  checks: "/api/v1/sites/{id}/checks",
  uptime: "/api/v1/sites/{id}/uptime",
  incidents: "/api/v1/incidents",
  openapi: "/api/v1/openapi.json",
  statusPage: "/",
  sitePage: "/sites/{id}",
  statusBadge: "/badge/{id}/status.svg",
  uptimeBadge: "/badge/{id}/uptime.svg",
  favicon: "/favicon.svg",
  healthz: "/healthz",
  metrics: "/metrics",
} as const;

const PATTERNS = Object.entries(ROUTES).map(([route, path]) =>
  [
    route as RouteName,
    new RegExp(`^${path.replaceAll(".", "\\.").replace("{id}", "([^/]+)")}$`),
  ] as const
);

/** The routes behind SERVE_API_TOKEN. */
const API = new Set<RouteName>(["sites", "site", "checks", "uptime", "incidents", "metrics"]);

type RouteName = keyof typeof ROUTES;

/** The routes that never read the database, so never wait for it. */
const NO_READS: ReadonlySet<RouteName> = new Set(["openapi", "favicon", "healthz", "metrics"]);

/**
 * Most requests reading at once (the pool has 4 connections); more are refused, not queued: every
 * `?after=` is a new URL past caches, so nothing else bounds what anonymous requests cost.
 */
const MAX_READING = 4;

function match(pathname: string): { route: RouteName; id: string } | undefined {
  for (const [route, pattern] of PATTERNS) {
    const found = pattern.exec(pathname);
    if (found !== null) {
      let id = "";
      try {
        id = decodeURIComponent(found[1] ?? "");
      } catch {
        throw new ApiError(400, "Bad path: it is not valid percent-encoding");
      }
      // PostgreSQL answers some characters (NUL) with an error.
      if (found[1] !== undefined && !siteIdParameter.safeParse(id).success) {
        throw new ApiError(404, `No site ${JSON.stringify(id)}`);
      }
      return { route, id };
    }
  }
  return undefined;
}

function json(
  value: unknown,
  options: { status?: number; maxAgeS: number; private: boolean },
): Body {
  return {
    contentType: JSON_TYPE,
    text: JSON.stringify(value),
    maxAgeS: options.maxAgeS,
    private: options.private,
    ...(options.status === undefined ? {} : { status: options.status }),
  };
}

/** The handler: a function from request to response that never throws. */
export function serveHandler(options: ServeOptions): (request: Request) => Promise<Response> {
  const openApi = JSON.stringify(openApiDocument());
  const policy = pagePolicy(STYLE_HASH);
  // Behind a token, a shared cache must not keep what one client was allowed to see.
  const isPrivate = options.apiToken !== null;
  let reading = 0;
  const refuse = (request: Request, status: number, error: string) =>
    respond(request, json({ error }, { status, maxAgeS: 0, private: true }));
  return async (request) => {
    const started = performance.now();
    let routeName = "other";
    let response: Response;
    try {
      const url = new URL(request.url);
      const found = match(url.pathname);
      if (found === undefined) {
        throw new ApiError(404, `Nothing at ${JSON.stringify(url.pathname)}`);
      }
      routeName = ROUTES[found.route];
      const reads = !NO_READS.has(found.route);
      if (request.method !== "GET" && request.method !== "HEAD") {
        response = refuse(request, 405, `Method ${request.method} is not allowed: use GET`);
        response.headers.set("allow", "GET, HEAD");
      } else if (
        API.has(found.route) && options.apiToken !== null &&
        !hasToken(request, options.apiToken)
      ) {
        response = refuse(
          request,
          401,
          "Unauthorized: send the API token as Authorization: Bearer <token>",
        );
        response.headers.set("www-authenticate", 'Bearer realm="monitor"');
      } else if (reads && options.reads === undefined) {
        response = refuse(request, 503, "The database is not reached yet; try again later");
        response.headers.set("retry-after", "5");
      } else if (reads && reading >= MAX_READING) {
        response = refuse(request, 503, "Too many requests at once: try again in a second");
        response.headers.set("retry-after", "1");
      } else {
        if (reads) reading++;
        try {
          response = respond(request, await answer(found.route, found.id, url));
        } finally {
          if (reads) reading--;
        }
      }
    } catch (error) {
      response = failure(request, error);
    }
    options.metrics.serveRequests.inc({ route: routeName, status: String(response.status) });
    options.metrics.serveDuration.observe(
      { route: routeName },
      (performance.now() - started) / 1000,
    );
    return response;
  };

  function failure(request: Request, error: unknown): Response {
    if (error instanceof ApiError) return refuse(request, error.status, error.message);
    options.metrics.serveDatabaseErrors.inc();
    options.log.error("request failed", { error: (error as Error)?.message ?? String(error) });
    return refuse(request, 503, "The database did not answer; try again later");
  }

  async function answer(route: RouteName, id: string, url: URL): Promise<Body> {
    const context: ApiContext = {
      reads: options.reads!,
      now: options.now(),
      showUrls: options.showUrls,
    };
    const api = (value: unknown) => json(value, { maxAgeS: API_MAX_AGE_S, private: isPrivate });
    switch (route) {
      case "sites":
        return api(await listSites(url, context));
      case "site":
        return api(await getSite(id, context));
      case "checks":
        return api(await listChecks(id, url, context));
      case "uptime":
        return api(await siteUptime(id, url, context));
      case "incidents":
        return api(await listIncidents(url, context));
      case "openapi":
        return { contentType: JSON_TYPE, text: openApi, maxAgeS: 3600 };
      case "statusPage":
        return page(await statusView(url, context));
      case "sitePage":
        return page(await siteView(id, url, context));
      case "statusBadge": {
        const site = await requireSite(id, context);
        const state = statusOf(site);
        const tone = state === "up"
          ? "up"
          : state === "unknown"
          ? "none"
          : state === "down"
          ? "down"
          : "warn";
        return svg(badge("status", state, tone));
      }
      case "uptimeBadge": {
        const window: UptimeWindow = parseQuery(badgeQuery, url).window ?? "30d";
        const site = await requireSite(id, context);
        const uptime = site.uptime[window];
        return svg(badge(`uptime ${window}`, percent(uptime), uptimeClass(uptime)));
      }
      case "favicon":
        return svg(FAVICON);
      case "healthz": {
        const report = await options.health();
        const healthy = Object.values(report).every((state) => state === "ok");
        return json(report, { status: healthy ? 200 : 503, maxAgeS: 0, private: true });
      }
      case "metrics":
        return {
          contentType: CONTENT_TYPE,
          text: options.metrics.registry.metrics(),
          maxAgeS: 0,
        };
    }
  }

  function page(text: string): Body {
    return { contentType: "text/html; charset=utf-8", text, maxAgeS: PAGE_MAX_AGE_S, policy };
  }

  function svg(text: string): Body {
    return {
      contentType: "image/svg+xml; charset=utf-8",
      text,
      maxAgeS: BADGE_MAX_AGE_S,
      embeddable: true,
    };
  }
}
