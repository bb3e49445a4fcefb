/**
 * What every response of `monitor serve` carries: strict security headers, an ETag and a
 * Cache-Control, so that a status page behind a CDN or a browser's cache costs nothing; and the
 * bearer-token check of the API, in constant time.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";

/**
 * The Content-Security-Policy of the pages: no script at all, the one stylesheet by its hash, SVG
 * inline. Nothing may frame the page, and forms (the window and region chooser) go only here.
 *
 * @param styleHash The base64 SHA-256 of the page's inline stylesheet.
 */
export function pagePolicy(styleHash: string): string {
  return [
    "default-src 'none'",
    `style-src 'sha256-${styleHash}'`,
    "img-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The policy of everything that is not a page: nothing is loaded, run or framed. */
const NONE_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * The security headers of a response.
 *
 * @param options The page's policy (pages only) and whether other sites may embed it (badges).
 * @returns Headers for every response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { securityHeaders } from "./headers.ts";
 * assert.equal(securityHeaders()["x-content-type-options"], "nosniff");
 * ```
 */
export function securityHeaders(
  options: { readonly policy?: string; readonly embeddable?: boolean } = {},
): Record<string, string> {
  return {
    "content-security-policy": options.policy ?? NONE_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    // A badge is meant for other sites' pages (READMEs); nothing else is.
    "cross-origin-resource-policy": options.embeddable ? "cross-origin" : "same-origin",
  };
}

/** What a finished body is sent as. */
export interface Body {
  readonly status?: number;
  readonly contentType: string;
  readonly text: string;
  /** Seconds a cache may keep it; 0: `no-store` (errors, health). */
  readonly maxAgeS: number;
  /** `private`: only the requester's own cache (the API behind a token). */
  readonly private?: boolean;
  readonly policy?: string;
  readonly embeddable?: boolean;
}

/**
 * The response for a body: with a strong ETag (the SHA-256 of the body), 304 without a body when
 * the request's If-None-Match names it.
 *
 * @param request The request (its If-None-Match and method).
 * @param body What to send.
 * @returns The response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { respond } from "./headers.ts";
 * const body = { contentType: "text/plain", text: "hello", maxAgeS: 30 };
 * const first = respond(new Request("http://x/"), body);
 * const again = new Request("http://x/", { headers: { "if-none-match": first.headers.get("etag")! } });
 * assert.equal(respond(again, body).status, 304);
 * ```
 */
export function respond(request: Request, body: Body): Response {
  const status = body.status ?? 200;
  const headers = new Headers({
    ...securityHeaders(body),
    "content-type": body.contentType,
    "cache-control": body.maxAgeS === 0
      ? "no-store"
      : `${body.private ? "private" : "public"}, max-age=${body.maxAgeS}`,
  });
  if (status !== 200 || body.maxAgeS === 0) {
    return new Response(request.method === "HEAD" ? null : body.text, { status, headers });
  }
  const etag = `"${createHash("sha256").update(body.text).digest("base64url").slice(0, 27)}"`;
  headers.set("etag", etag);
  const asked = request.headers.get("if-none-match");
  if (asked !== null && asked.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : body.text, { status, headers });
}

/**
 * Whether a request carries the API's bearer token. Both sides are hashed first, so the
 * comparison takes the same time whatever the token's length and wherever it differs.
 *
 * @param request The request.
 * @param token The token that SERVE_API_TOKEN sets.
 * @returns True when `Authorization: Bearer <token>` matches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasToken } from "./headers.ts";
 * const request = new Request("http://x/", { headers: { authorization: "Bearer s3cret" } });
 * assert.equal(hasToken(request, "s3cret"), true);
 * assert.equal(hasToken(request, "other"), false);
 * ```
 */
export function hasToken(request: Request, token: string): boolean {
  const given = /^Bearer +(\S+) *$/i.exec(request.headers.get("authorization") ?? "")?.[1] ?? "";
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(token)) && given !== "";
}
