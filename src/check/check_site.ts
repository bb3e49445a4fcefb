/**
 * One HTTP check of one site. The outcome is always a {@link CheckResult}: a site that is down,
 * slow or hostile is data, not an exception.
 *
 * @module
 */
import type { BlockList } from "node:net";
import type { SiteConfig } from "../config/sites.ts";
import { readBody } from "./body.ts";
import type { BodyBudget } from "./body_budget.ts";
import { classifyFetchError } from "./classify.ts";
import { DEFAULT_DENIED_NETWORKS } from "./denied_networks.ts";
import { type Exchange, type HopTrace, phaseTimes, sendRequest } from "./http_exchange.ts";
import { type CheckError, type CheckResult, NO_CONNECTION_DETAILS } from "./result.ts";
import { type CheckOrigin, localOrigin, resultHead, userAgent } from "./origin.ts";
import { rehearseOnce } from "./rehearsal.ts";

/** What a check needs from the outside world; tests pass their own. */
export interface CheckOptions {
  /** Wall clock for `checkedAt`; defaults to `Date.now`. */
  readonly now?: () => number;
  /** Monotonic clock for durations, in milliseconds; defaults to `performance.now`. */
  readonly monotonicMs?: () => number;
  /** Id generator; defaults to UUIDv7. */
  readonly newId?: () => string;
  /**
   * Calls the check off (the monitor is stopping): every phase, from DNS to the body, ends when it
   * is aborted, and `checkSite` rejects with its reason.
   */
  readonly signal?: AbortSignal;
  /**
   * Networks no request may connect to (`CHECK_DENY_NETWORKS`, see `deniedNetworks()`); defaults
   * to the link-local ones, which hold the cloud metadata services.
   */
  readonly denied?: BlockList;
  /** The region and process the result says it came from; defaults to this process, "default". */
  readonly origin?: CheckOrigin;
  /**
   * Memory the bodies kept by this process's checks in progress share (`CHECK_BODY_MEMORY_BYTES`);
   * without it, a body is bounded by its site's `maxBodyBytes` alone.
   */
  readonly bodyBudget?: BodyBudget;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Checks a site once: requests its URL over a fresh connection per hop (following redirects up
 * to the site's limit), reads the body up to its byte limit, looks for its pattern, and times each
 * phase; the certificate comes from the connection that carried the request.
 *
 * A check called off by `options.signal` has no result: a site is not down because the monitor
 * stopped, and a half-timed check says nothing true about it. The caller drops it.
 *
 * The first call in a process first rehearses a check (see `rehearseOnce()`), so that its times
 * are as true as the later ones'.
 *
 * @param site The site to check.
 * @param options Clocks, ids and a signal to call the check off.
 * @returns The result, whatever the site did.
 * @throws {unknown} `options.signal.reason`, when the signal is aborted before the result is
 *   complete; nothing else.
 *
 * @example
 * ```ts ignore
 * import { checkSite } from "./check_site.ts";
 * import { parseSites } from "../sites/file.ts";
 * const [site] = parseSites("sites:\n  - id: example\n    url: https://example.com/\n", "inline");
 * const result = await checkSite(site!);
 * console.log(result.up, result.statusCode, result.responseTimeMs, result.tlsMs);
 * ```
 */
export async function checkSite(
  site: SiteConfig,
  options: CheckOptions = {},
): Promise<CheckResult> {
  const monotonicMs = options.monotonicMs ?? (() => performance.now());
  const stop = options.signal;
  stop?.throwIfAborted();
  // (Once per process, before any check is timed.)
  await rehearseOnce();
  const checkedAt = new Date((options.now ?? Date.now)()).toISOString();
  const origin = options.origin ?? localOrigin();
  const base = {
    ...resultHead(site, { ...options, origin }),
    checkedAt,
    pattern: site.pattern?.source ?? null,
  } as const;
  // (Timed from here: making up the result's head is not the site's time.)
  const startedMs = monotonicMs();
  const timeout = AbortSignal.timeout(site.timeoutMs);
  const signal = stop === undefined ? timeout : AbortSignal.any([timeout, stop]);

  const hops: HopTrace[] = [];
  let exchange: Exchange | undefined;
  let timeToHeadersMs: number | null = null;

  /** What the connections told, as far as the check went. */
  function details() {
    const last = hops.at(-1);
    const certificate = last?.certificate;
    return {
      ...NO_CONNECTION_DETAILS,
      certExpiresAt: certificate?.expiresAt?.toISOString() ?? null,
      ...phaseTimes(hops),
      remoteAddress: last?.remoteAddress ?? null,
      httpVersion: exchange?.response.httpVersion ?? null,
      tlsVersion: last?.tlsVersion ?? null,
      ...(certificate === undefined ? {} : {
        certSubject: certificate.subject,
        certIssuer: certificate.issuer,
        certAltNames: [...certificate.altNames],
      }),
    };
  }
  function failed(error: CheckError): CheckResult {
    return {
      ...base,
      timeToHeadersMs,
      responseTimeMs: null,
      statusCode: httpStatus(exchange),
      patternMatched: null,
      ...details(),
      up: false,
      error,
    };
  }

  const context = {
    hops,
    signal,
    monotonicMs,
    denied: options.denied ?? DEFAULT_DENIED_NETWORKS,
    userAgent: userAgent(origin),
    received: (e: Exchange) => exchange = e,
  };
  try {
    const refused = await request(site, context);
    if (refused !== null) return failed(refused);
    const response = exchange!.response;
    timeToHeadersMs = monotonicMs() - startedMs;
    const body = await readBody(exchange!, {
      maxBytes: site.maxBodyBytes,
      pattern: site.pattern?.regex ?? null,
      budget: options.bodyBudget,
      monotonicMs,
      signal,
    });
    if ("kind" in body) return failed(body);
    hops.at(-1)!.endMs = body.endMs;
    const responseTimeMs = body.endMs - startedMs;
    const statusCode = response.statusCode ?? 0;
    const { patternMatched } = body;
    const expiresAt = hops.at(-1)?.certificate?.expiresAt ?? null;
    const fields = {
      ...base,
      timeToHeadersMs,
      responseTimeMs,
      statusCode,
      patternMatched,
      ...details(),
    };
    const error = expectationError(statusCode, patternMatched, site) ??
      certificateError(expiresAt, Date.parse(checkedAt), site);
    return error === null ? { ...fields, up: true, error } : { ...fields, up: false, error };
  } catch (error) {
    // Whatever broke after the stop (an aborted read, a closed socket), it was the stop.
    if (stop?.aborted) throw stop.reason;
    return failed(classifyFetchError(error, timeout));
  } finally {
    exchange?.close();
  }
}

interface RequestContext {
  readonly hops: HopTrace[];
  readonly signal: AbortSignal;
  readonly monotonicMs: () => number;
  readonly denied: BlockList;
  readonly userAgent: string;
  /** Called with each response as its headers arrive. */
  readonly received: (exchange: Exchange) => void;
}

/**
 * Sends the site's request and follows redirects as a browser would, up to the site's limit, each
 * hop over a connection of its own. What the site holds back from other hosts (as curl and browsers
 * do): its headers go to another origin only when `forward_headers_on_redirect` names them, and
 * then never from https to http; once dropped, they stay dropped. Its body goes to its origin
 * only: a 301, 302 or 303 continues as a GET without it, and a 307 or 308 that would take it
 * elsewhere is the final response.
 *
 * @returns `null` once the final response's headers are in (handed to `context.received`), or
 *   why there is no usable response.
 */
async function request(site: SiteConfig, context: RequestContext): Promise<CheckError | null> {
  let method: string = site.method;
  let body = site.body;
  let headers = site.headers;
  let url = new URL(site.url);
  for (let redirects = 0;; redirects++) {
    const hop: HopTrace = { startMs: context.monotonicMs() };
    context.hops.push(hop);
    const exchange = await sendRequest(
      url,
      {
        method,
        body,
        headers: {
          "user-agent": context.userAgent,
          "accept-encoding": "gzip, deflate, br",
          ...headers,
        },
        verify: site.tlsVerify,
        caCert: site.caCert,
        denied: context.denied,
        signal: context.signal,
      },
      hop,
      context.monotonicMs,
    );
    context.received(exchange);
    const { statusCode = 0, headers: { location } } = exchange.response;
    if (httpStatus(exchange) === null) {
      return { kind: "invalid_response", message: `Status ${statusCode} is not an HTTP status` };
    }
    if (site.maxRedirects === 0 || !REDIRECT_STATUSES.has(statusCode) || location === undefined) {
      return null;
    }
    const target = URL.parse(location, url);
    const next = target?.protocol === "http:" || target?.protocol === "https:" ? target : null;
    const elsewhere = next !== null && next.origin !== url.origin;
    // A 307 or 308 asks for the same request again, body and all: not to another origin.
    if (elsewhere && body !== null && statusCode >= 307) return null;
    exchange.close();
    // As blackbox_exporter counts it: a redirect's transfer lasts until the next request starts, so
    // that the phases of every hop add up to the whole check.
    hop.endMs = context.monotonicMs();
    if (redirects === site.maxRedirects) {
      return { kind: "too_many_redirects", message: `More than ${site.maxRedirects} redirects` };
    }
    if (next === null) {
      return { kind: "invalid_response", message: "Redirect to an invalid location" };
    }
    if (elsewhere) {
      const downgrade = url.protocol === "https:" && next.protocol === "http:";
      headers = Object.fromEntries(
        Object.entries(headers).filter(([name]) =>
          !downgrade && site.forwardHeadersOnRedirect.includes(name.toLowerCase())
        ),
      );
    }
    url = next;
    // As browsers do for a POST, and for every method, so that no body is sent twice.
    if (statusCode <= 303 && method !== "GET" && method !== "HEAD") {
      method = "GET";
      body = null;
    }
  }
}

/** The response's status, when it is one HTTP has (the parser takes any three digits). */
function httpStatus(exchange: Exchange | undefined): number | null {
  const status = exchange?.response.statusCode;
  return status !== undefined && status >= 100 && status <= 999 ? status : null;
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
