/**
 * One HTTP check of one site. The outcome is always a {@link CheckResult}: a site that is down,
 * slow or hostile is data, not an exception.
 *
 * @module
 */
import { v7 as uuidv7 } from "uuid";
import type { SiteConfig } from "../config/sites.ts";
import { certificateExpiry } from "./certificate.ts";
import { classifyFetchError } from "./classify.ts";
import { unverifiedFetch } from "./unverified_fetch.ts";
import { CHECK_RESULT_VERSION, type CheckError, type CheckResult } from "./result.ts";

/** What a check needs from the outside world; tests pass their own. */
export interface CheckOptions {
  /** The HTTP client; the default opens a fresh connection for every check. */
  readonly fetch?: typeof fetch;
  /**
   * The Deno HTTP client passed to `fetch`; share one from {@link freshConnectionClient}. Without
   * it each check makes (and closes) a client of its own.
   */
  readonly client?: Deno.HttpClient;
  /** Wall clock for `checkedAt`; defaults to `Date.now`. */
  readonly now?: () => number;
  /** Monotonic clock for durations, in milliseconds; defaults to `performance.now`. */
  readonly monotonicMs?: () => number;
  /** Id generator; defaults to UUIDv7. */
  readonly newId?: () => string;
  /**
   * Calls the check off (the monitor is stopping): every phase, from DNS to the body and the
   * certificate, ends when it is aborted, and `checkSite` rejects with its reason.
   */
  readonly signal?: AbortSignal;
}

/** Sent with every request so site owners can tell the monitor from visitors. */
export const USER_AGENT = "website-monitor/0.1 (+https://github.com/website-monitor/monitor)";

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Checks a site once: requests its URL (following redirects up to the site's limit), reads the
 * body up to its byte limit, looks for its pattern and times each phase.
 *
 * A check called off by `options.signal` has no result: a site is not down because the monitor
 * stopped, and a half-timed check says nothing true about it. The caller drops it.
 *
 * @param site The site to check.
 * @param options Clocks, HTTP client and a signal to call the check off.
 * @returns The result, whatever the site did.
 * @throws {unknown} `options.signal.reason`, when the signal is aborted before the result is
 *   complete; nothing else.
 *
 * @example
 * ```ts ignore
 * import { checkSite } from "./check_site.ts";
 * import { parseSites } from "../config/sites.ts";
 * const [site] = parseSites("sites:\n  - id: example\n    url: https://example.com/\n", "inline");
 * const result = await checkSite(site!);
 * console.log(result.up, result.statusCode, result.responseTimeMs);
 * ```
 */
export async function checkSite(
  site: SiteConfig,
  options: CheckOptions = {},
): Promise<CheckResult> {
  // Sites without verification go through node:https, which needs no Deno client.
  if (!site.tlsVerify || (options.client !== undefined && site.caCert === null)) {
    return await check(site, options, options.client);
  }
  using client = freshConnectionClient(site.caCert);
  return await check(site, options, client);
}

/**
 * An HTTP client that keeps no idle connection, so every request pays for DNS, TCP and TLS as a
 * new visitor does: a pooled connection would hide that time.
 *
 * @param caCert A CA certificate (PEM) to trust besides the system's.
 * @returns The client; close it (or `using` it) when done.
 */
export function freshConnectionClient(caCert: string | null = null): Deno.HttpClient {
  return Deno.createHttpClient({
    poolMaxIdlePerHost: 0,
    ...(caCert === null ? {} : { caCerts: [caCert] }),
  });
}

async function check(
  site: SiteConfig,
  options: CheckOptions,
  client: Deno.HttpClient | undefined,
): Promise<CheckResult> {
  const monotonicMs = options.monotonicMs ?? (() => performance.now());
  const checkedAt = new Date((options.now ?? Date.now)()).toISOString();
  const stop = options.signal;
  stop?.throwIfAborted();
  const startedMs = monotonicMs();
  const timeout = AbortSignal.timeout(site.timeoutMs);
  const signal = stop === undefined ? timeout : AbortSignal.any([timeout, stop]);

  const base = {
    version: CHECK_RESULT_VERSION,
    checkId: (options.newId ?? uuidv7)(),
    siteId: site.id,
    siteName: site.name,
    url: site.url,
    checkedAt,
    pattern: site.pattern?.source ?? null,
  } as const;
  let timeToHeadersMs: number | null = null;
  let statusCode: number | null = null;

  function failed(error: CheckError): CheckResult {
    return {
      ...base,
      timeToHeadersMs,
      responseTimeMs: null,
      statusCode,
      patternMatched: null,
      certExpiresAt: null,
      up: false,
      error,
    };
  }

  try {
    const outcome = await request(site, {
      client,
      signal,
      fetch: options.fetch ?? (site.tlsVerify ? fetch : unverifiedFetch),
    });
    if ("kind" in outcome) {
      statusCode = outcome.statusCode;
      return failed({ kind: outcome.kind, message: outcome.message });
    }
    const { response, url } = outcome;
    timeToHeadersMs = monotonicMs() - startedMs;
    statusCode = response.status;

    const body = await readBody(response, site.maxBodyBytes);
    if (body === undefined) {
      return failed({
        kind: "body_too_large",
        message: `Body is larger than ${site.maxBodyBytes} bytes`,
      });
    }
    const responseTimeMs = monotonicMs() - startedMs;
    const patternMatched = site.pattern === null ? null : site.pattern.regex.test(body);
    const expiresAt = url.startsWith("https:")
      ? await certificateExpiry(new URL(url), {
        // At least a second even when the request used up the timeout: the response is in hand.
        timeoutMs: Math.max(1_000, site.timeoutMs - responseTimeMs),
        ...(stop === undefined ? {} : { signal: stop }),
      })
      : null;
    // An expiry missed because of the stop would make an incomplete result.
    stop?.throwIfAborted();
    const fields = {
      ...base,
      timeToHeadersMs,
      responseTimeMs,
      statusCode,
      patternMatched,
      certExpiresAt: expiresAt?.toISOString() ?? null,
    };
    const error = expectationError(statusCode, patternMatched, site) ??
      certificateError(expiresAt, Date.parse(checkedAt), site);
    return error === null ? { ...fields, up: true, error } : { ...fields, up: false, error };
  } catch (error) {
    // Whatever broke after the stop (an aborted read, a closed socket), it was the stop.
    if (stop?.aborted) throw stop.reason;
    return failed(classifyFetchError(error, timeout));
  }
}

interface RequestContext {
  readonly client: Deno.HttpClient | undefined;
  readonly signal: AbortSignal;
  readonly fetch: typeof fetch;
}

/**
 * Sends the site's request and follows redirects as a browser would, up to the site's limit.
 *
 * @returns The final response (body unread) and its URL, or why there is none usable.
 */
async function request(
  site: SiteConfig,
  context: RequestContext,
): Promise<{ response: Response; url: string } | CheckError & { statusCode: number }> {
  let method: string = site.method;
  let body = site.body;
  let url = site.url;
  for (let redirects = 0;; redirects++) {
    const response = await context.fetch(url, {
      method,
      body,
      headers: {
        "user-agent": USER_AGENT,
        "accept-encoding": "gzip, deflate, br",
        ...site.headers,
      },
      redirect: "manual",
      signal: context.signal,
      ...(context.client === undefined ? {} : { client: context.client }),
    } as RequestInit);
    const location = response.headers.get("location");
    if (site.maxRedirects === 0 || !REDIRECT_STATUSES.has(response.status) || location === null) {
      return { response, url };
    }
    await response.body?.cancel();
    const statusCode = response.status;
    if (redirects === site.maxRedirects) {
      return {
        kind: "too_many_redirects",
        message: `More than ${site.maxRedirects} redirects`,
        statusCode,
      };
    }
    if (!URL.canParse(location, url)) {
      return { kind: "invalid_response", message: "Redirect to an invalid location", statusCode };
    }
    url = new URL(location, url).href;
    // As browsers do: 303, and 301/302 after a POST, continue as GET without the body.
    if ((statusCode === 303 && method !== "HEAD") || (statusCode <= 302 && method === "POST")) {
      method = "GET";
      body = null;
    }
  }
}

function expectationError(
  statusCode: number,
  patternMatched: boolean | null,
  site: SiteConfig,
): CheckError | null {
  if (!site.expectStatus.some(([from, to]) => statusCode >= from && statusCode <= to)) {
    const expected = site.expectStatus.map(([from, to]) => from === to ? from : `${from}-${to}`);
    return {
      kind: "unexpected_status",
      message: `Status ${statusCode} is not in ${expected.join(", ")}`,
    };
  }
  if (patternMatched === false) {
    return { kind: "pattern_mismatch", message: `Body does not match /${site.pattern?.source}/` };
  }
  return null;
}

const DAY_MS = 86_400_000;

function certificateError(
  expiresAt: Date | null,
  checkedAtMs: number,
  site: SiteConfig,
): CheckError | null {
  if (expiresAt === null || site.certMinDays === null) return null;
  const daysLeft = (expiresAt.getTime() - checkedAtMs) / DAY_MS;
  if (daysLeft >= site.certMinDays) return null;
  return {
    kind: "tls",
    message: `Certificate expires ${expiresAt.toISOString()}, in ${
      daysLeft.toFixed(1)
    } days: fewer than ${site.certMinDays}`,
  };
}

/**
 * Reads a body as text, stopping once it exceeds `maxBytes` (decompressed bytes: `fetch` has
 * already undone any content encoding).
 *
 * @returns The text (invalid UTF-8 replaced by U+FFFD), or `undefined` when it was too large.
 */
async function readBody(response: Response, maxBytes: number): Promise<string | undefined> {
  if (response.body === null) return "";
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
  }
}
