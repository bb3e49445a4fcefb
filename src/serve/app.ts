/**
 * `monitor serve`'s request handler: routes to the API, the pages and the badges, with security
 * headers, ETags, the API's token, and the metrics. Pure but for what it is given: the reads, the
 * clock and the health probe, so that tests call it with fakes.
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
  readonly reads: ServeReads;
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

type Route = { readonly name: string; readonly pattern: RegExp; readonly api?: boolean };

/** Every route; its name (the pattern) labels the metrics, so their number is bounded. */
const ROUTES = {
  sites: { name: "/api/v1/sites", pattern: /^\/api\/v1\/sites$/, api: true },
  site: { name: "/api/v1/sites/{id}", pattern: /^\/api\/v1\/sites\/([^/]+)$/, api: true },
  checks: {
    name: "/api/v1/sites/{id}/checks",
    pattern: /^\/api\/v1\/sites\/([^/]+)\/checks$/,
    api: true,
  },
  uptime: {
    name: "/api/v1/sites/{id}/uptime",
    pattern: /^\/api\/v1\/sites\/([^/]+)\/uptime$/,
    api: true,
  },
  incidents: { name: "/api/v1/incidents", pattern: /^\/api\/v1\/incidents$/, api: true },
  openapi: { name: "/api/v1/openapi.json", pattern: /^\/api\/v1\/openapi\.json$/ },
  statusPage: { name: "/", pattern: /^\/$/ },
  sitePage: { name: "/sites/{id}", pattern: /^\/sites\/([^/]+)$/ },
  statusBadge: { name: "/badge/{id}/status.svg", pattern: /^\/badge\/([^/]+)\/status\.svg$/ },
  uptimeBadge: { name: "/badge/{id}/uptime.svg", pattern: /^\/badge\/([^/]+)\/uptime\.svg$/ },
  favicon: { name: "/favicon.svg", pattern: /^\/favicon\.svg$/ },
  healthz: { name: "/healthz", pattern: /^\/healthz$/ },
  metrics: { name: "/metrics", pattern: /^\/metrics$/, api: true },
} as const satisfies Record<string, Route>;

type RouteName = keyof typeof ROUTES;

/** The routes that never read the database, so never wait for it. */
const NO_READS: ReadonlySet<RouteName> = new Set(["openapi", "favicon", "healthz", "metrics"]);

/**
 * Most requests reading the database at once; more are refused at once (a counter, not a queue):
 * every `?after=` is a new URL, past ETags and caches, so nothing else bounds what anonymous
 * requests cost the database. The pool has 4 connections.
 */
const MAX_READING = 4;

function match(pathname: string): { route: RouteName; id: string } | undefined {
  for (const [route, { pattern }] of Object.entries(ROUTES)) {
    const found = pattern.exec(pathname);
    if (found !== null) {
      let id = "";
      try {
        id = decodeURIComponent(found[1] ?? "");
      } catch {
        throw new ApiError(400, "Bad path: it is not valid percent-encoding");
      }
      // Before any read: PostgreSQL refuses some characters (NUL) with an error, not an answer.
      if (found[1] !== undefined && !siteIdParameter.safeParse(id).success) {
        throw new ApiError(404, `No site ${JSON.stringify(id)}`);
      }
      return { route: route as RouteName, id };
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

/**
 * The handler.
 *
 * @param options Reads, clock, settings, metrics, health and log.
 * @returns A function from request to response that never throws.
 *
 * @example
 * ```ts ignore
 * import { serveHandler } from "./app.ts";
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, serveHandler(options));
 * ```
 */
export function serveHandler(options: ServeOptions): (request: Request) => Promise<Response> {
  const openApi = JSON.stringify(openApiDocument());
  const policy = pagePolicy(STYLE_HASH);
  // Behind a token, a shared cache must not keep what one client was allowed to see.
  const isPrivate = options.apiToken !== null;
  let reading = 0;
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
      const route: Route = ROUTES[found.route];
      routeName = route.name;
      if (request.method !== "GET" && request.method !== "HEAD") {
        response = respond(request, {
          ...json({ error: `Method ${request.method} is not allowed: use GET` }, {
            status: 405,
            maxAgeS: 0,
            private: true,
          }),
        });
        response.headers.set("allow", "GET, HEAD");
      } else if (
        route.api && options.apiToken !== null && !hasToken(request, options.apiToken)
      ) {
        response = respond(
          request,
          json({ error: "Unauthorized: send the API token as Authorization: Bearer <token>" }, {
            status: 401,
            maxAgeS: 0,
            private: true,
          }),
        );
        response.headers.set("www-authenticate", 'Bearer realm="monitor"');
      } else if (!NO_READS.has(found.route) && reading >= MAX_READING) {
        response = respond(
          request,
          json({ error: "Too many requests at once: try again in a second" }, {
            status: 503,
            maxAgeS: 0,
            private: true,
          }),
        );
        response.headers.set("retry-after", "1");
      } else {
        const reads = !NO_READS.has(found.route);
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
    if (error instanceof ApiError) {
      return respond(
        request,
        json({ error: error.message }, {
          status: error.status,
          maxAgeS: 0,
          private: true,
        }),
      );
    }
    options.metrics.serveDatabaseErrors.inc();
    options.log.error("request failed", { error: (error as Error)?.message ?? String(error) });
    return respond(
      request,
      json({ error: "The database did not answer; try again later" }, {
        status: 503,
        maxAgeS: 0,
        private: true,
      }),
    );
  }

  async function answer(route: RouteName, id: string, url: URL): Promise<Body> {
    const context: ApiContext = {
      reads: options.reads,
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
