/**
 * What every response of `monitor serve` carries: strict security headers, an ETag and a
 * Cache-Control (a status page behind a cache costs nothing); the API's bearer-token check.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { STYLE } from "./style.ts";

/** The pages' Content-Security-Policy: no script, the one stylesheet by its base64 SHA-256. */
export const PAGE_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`,
  "img-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** What a finished body is sent as. */
export interface Body {
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
  /** More headers, such as an error's Retry-After. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The response for a body, with a strong ETag: 304 when If-None-Match names it. */
export function respond(request: Request, body: Body): Response {
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
export function hasToken(request: Request, token: string): boolean {
  const given = /^Bearer +(\S+) *$/i.exec(request.headers.get("authorization") ?? "")?.[1] ?? "";
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(token)) && given !== "";
}
