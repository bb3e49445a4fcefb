/**
 * `monitor serve`'s request handler: the API, the pages and the badges, with strict security
 * headers, ETags and Cache-Control, the API's token and metrics; tests give it fake reads.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { ServeReads, UptimeWindow } from "../db/reads.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { CONTENT_TYPE } from "../prometheus.ts";
import * as api from "./api.ts";
import { badgeQuery, openApiDocument, siteIdParameter } from "./api_schema.ts";
import { PAGE_POLICY, siteView, statusView } from "./page.ts";
import { badge, percent, uptimeClass } from "./svg.ts";

/** What the handler works with. */
export interface ServeOptions {
  /** Undefined while the database is not reached: every read is then 503. */
  readonly reads: ServeReads | undefined;
  readonly now: () => Date;
  readonly showUrls: boolean;
  /** SERVE_API_TOKEN: the API (and /metrics) then require it; null: open. */
  readonly apiToken: string | null;
  readonly metrics: Metrics;
  /** `/healthz`: each service's state, "ok" when it answers. */
  readonly health: () => Promise<Record<string, string>>;
  readonly log: Logger;
}

/** What a finished body is sent as. */
interface Body {
  readonly status?: number;
  readonly contentType: string;
  readonly text: string;
  /** Seconds a cache may keep it; 0: `no-store` (errors, health). */
  readonly maxAgeS: number;
  /** `private`: only the requester's own cache (the API behind a token). */
  readonly private?: boolean;
  /** The Content-Security-Policy (a page's); else none at all. */
  readonly policy?: string;
  /** A badge is meant for other sites' pages (READMEs); nothing else is. */
  readonly embeddable?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
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

function json(value: unknown, options: Partial<Omit<Body, "contentType" | "text">> = {}): Body {
  return { contentType: JSON_TYPE, text: JSON.stringify(value), maxAgeS: MAX_AGE_S, ...options };
}

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

/** The response for a body, with a strong ETag: 304 when If-None-Match names it. */
function respond(request: Request, body: Body): Response {
  const status = body.status ?? 200;
  const headers = new Headers({
    "content-security-policy": body.policy ?? "default-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": body.embeddable ? "cross-origin" : "same-origin",
    ...body.headers,
    "content-type": body.contentType,
    "cache-control": body.maxAgeS === 0
      ? "no-store"
      : `${body.private ? "private" : "public"}, max-age=${body.maxAgeS}`,
  });
  if (status === 200 && body.maxAgeS > 0) {
    const etag = `"${createHash("sha256").update(body.text).digest("base64url").slice(0, 27)}"`;
    headers.set("etag", etag);
    const asked = request.headers.get("if-none-match")?.split(",") ?? [];
    if (asked.some((tag) => tag.trim().replace(/^W\//, "") === etag)) {
      return new Response(null, { status: 304, headers });
    }
  }
  return new Response(request.method === "HEAD" ? null : body.text, { status, headers });
}

/**
 * Whether `Authorization: Bearer <token>` matches. Both sides are hashed first, so the comparison
 * takes the same time whatever the token's length and wherever it differs.
 */
function hasToken(request: Request, token: string): boolean {
  const given = /^Bearer +(\S+) *$/i.exec(request.headers.get("authorization") ?? "")?.[1] ?? "";
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(token)) && given !== "";
}
