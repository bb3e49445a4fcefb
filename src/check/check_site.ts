/**
 * One HTTP check of one site; a site that is down, slow, hostile or misconfigured is a result.
 *
 * @module
 */
import type { BlockList } from "node:net";
import { hostname } from "node:os";
import { v7 as uuidv7 } from "uuid";
import { SETTINGS } from "../config/settings_schema.ts";
import type { SiteConfig } from "../config/sites.ts";
import { VERSION } from "../version.ts";
import { type BodyBudget, type BodyRead, readBody } from "./body.ts";
import { classifyFetchError } from "./classify.ts";
import { DEFAULT_DENIED_NETWORKS } from "./denied_networks.ts";
import {
  type Exchange,
  type HopTrace,
  type OutgoingRequest,
  phaseTimes,
  rehearseOnce,
  sendRequest,
} from "./http_exchange.ts";
import {
  CHECK_RESULT_VERSION,
  type CheckError,
  type CheckResult,
  NO_CONNECTION_DETAILS,
} from "./result.ts";

/** This process as a checker of `region`, as results name it: `checker` is host name and pid. */
export function localOrigin(region: string = SETTINGS.MONITOR_REGION.default) {
  return { region, checker: `${hostname()}:${Deno.pid}` };
}

interface ResultOptions {
  readonly now?: () => number;
  readonly newId?: () => string;
  readonly origin?: ReturnType<typeof localOrigin>;
}

interface CheckOptions extends ResultOptions {
  readonly signal?: AbortSignal;
  readonly denied?: BlockList;
  readonly bodyBudget?: BodyBudget;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Checks a site once over a fresh connection per redirect hop, reading the body up to its limit and
 * timing each phase. Rejects only with `options.signal.reason` once it is aborted: a site is not
 * down because the monitor stopped.
 */
export async function checkSite(
  site: SiteConfig,
  options: CheckOptions = {},
): Promise<CheckResult> {
  const stop = options.signal;
  stop?.throwIfAborted();
  await rehearseOnce();
  const head = resultHead(site, options);
  const startedMs = performance.now();
  const timeout = AbortSignal.timeout(site.timeoutMs);
  const signal = stop === undefined ? timeout : AbortSignal.any([timeout, stop]);

  const hops: HopTrace[] = [];
  let exchange: Exchange | undefined;
  let timeToHeadersMs: number | null = null;

  function finish(error: CheckError | null, read?: BodyRead): CheckResult {
    const last = hops.at(-1);
    const fields = {
      ...head,
      pattern: site.pattern?.source ?? null,
      timeToHeadersMs,
      responseTimeMs: read === undefined ? null : read.endMs - startedMs,
      statusCode: httpStatus(exchange),
      patternMatched: read?.patternMatched ?? null,
      ...NO_CONNECTION_DETAILS,
      certExpiresAt: null,
      ...last?.certificate,
      ...phaseTimes(hops),
      remoteAddress: last?.remoteAddress ?? null,
      httpVersion: exchange?.response.httpVersion ?? null,
      tlsVersion: last?.tlsVersion ?? null,
    };
    const why = error ?? verdict(fields, site);
    return why === null
      ? { ...fields, up: true, error: why }
      : { ...fields, up: false, error: why };
  }

  const context = {
    hops,
    received: (e: Exchange) => exchange = e,
    headers: {
      // The region, so that a site owner can tell the vantage points apart.
      "user-agent":
        `website-monitor/${VERSION} (+https://github.com/website-monitor/monitor; region=${head.region})`,
      "accept-encoding": "gzip, deflate, br",
    },
    connection: {
      verify: site.tlsVerify,
      caCert: site.caCert,
      denied: options.denied ?? DEFAULT_DENIED_NETWORKS,
      signal,
    },
  };
  try {
    const refused = await request(site, context);
    if (refused !== null) return finish(refused);
    timeToHeadersMs = performance.now() - startedMs;
    const body = await readBody(exchange!, {
      maxBytes: site.maxBodyBytes,
      pattern: site.pattern?.regex ?? null,
      budget: options.bodyBudget,
      signal,
    });
    if ("kind" in body) return finish(body);
    hops.at(-1)!.endMs = body.endMs;
    return finish(null, body);
  } catch (error) {
    // Whatever broke after the stop (an aborted read, a closed socket), it was the stop.
    if (stop?.aborted) throw stop.reason;
    return finish(classifyFetchError(error, timeout));
  } finally {
    exchange?.close();
  }
}

interface RequestContext {
  readonly hops: HopTrace[];
  readonly received: (exchange: Exchange) => void;
  /** Sent to every origin. */
  readonly headers: Readonly<Record<string, string>>;
  readonly connection: Omit<OutgoingRequest, "method" | "headers" | "body" | "trace">;
}

/**
 * Sends the site's request and follows redirects as docs/configuration.md says (the site's headers
 * and body stay with its origin); `null` once the final response's headers are in, else why not.
 */
async function request(site: SiteConfig, context: RequestContext): Promise<CheckError | null> {
  let { method, body, headers } = site;
  let url = new URL(site.url);
  for (let redirects = 0;; redirects++) {
    const hop: HopTrace = { startMs: performance.now() };
    context.hops.push(hop);
    const exchange = await sendRequest(url, {
      ...context.connection,
      method,
      body,
      headers: { ...context.headers, ...headers },
      trace: hop,
    });
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
    // As blackbox_exporter counts it: the phases of every hop add up to the whole check.
    hop.endMs = performance.now();
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
    // As browsers do for a POST, and for every method: no body is sent twice.
    if (statusCode <= 303 && method !== "GET" && method !== "HEAD") {
      method = "GET";
      body = null;
    }
  }
}

/** The status, when HTTP has it (the parser takes any three digits). */
function httpStatus(exchange: Exchange | undefined): number | null {
  const status = exchange?.response.statusCode;
  return status !== undefined && status >= 100 && status <= 999 ? status : null;
}

/** Why a complete response fails the site's expectations, if it does. */
function verdict(result: Omit<CheckResult, "up" | "error">, site: SiteConfig): CheckError | null {
  const { statusCode, patternMatched, certExpiresAt, checkedAt } = result;
  if (!site.expectStatus.some(([from, to]) => statusCode! >= from && statusCode! <= to)) {
    const expected = site.expectStatus.map(([from, to]) => from === to ? from : `${from}-${to}`);
    return {
      kind: "unexpected_status",
      message: `Status ${statusCode} is not in ${expected.join(", ")}`,
    };
  }
  if (patternMatched === false) {
    return { kind: "pattern_mismatch", message: `Body does not match /${site.pattern?.source}/` };
  }
  if (certExpiresAt === null || site.certMinDays === null) return null;
  const daysLeft = (Date.parse(certExpiresAt) - Date.parse(checkedAt)) / 86_400_000;
  if (daysLeft >= site.certMinDays) return null;
  const days = daysLeft.toFixed(1);
  return {
    kind: "tls",
    message:
      `Certificate expires ${certExpiresAt}, in ${days} days: fewer than ${site.certMinDays}`,
  };
}

function resultHead(
  site: Pick<SiteConfig, "id" | "name" | "urlAsWritten">,
  options: ResultOptions,
) {
  const origin = options.origin ?? localOrigin();
  return {
    version: CHECK_RESULT_VERSION,
    region: origin.region,
    checker: origin.checker,
    checkId: (options.newId ?? uuidv7)(),
    siteId: site.id,
    siteName: site.name,
    url: site.urlAsWritten,
    checkedAt: new Date((options.now ?? Date.now)()).toISOString(),
  } as const;
}

/** A site this checker cannot check, and why (each problem `key: what is wrong`). */
export type MisconfiguredSite = Pick<SiteConfig, "id" | "name" | "urlAsWritten" | "intervalMs"> & {
  readonly problems: readonly string[];
};

/** A failed check of kind `config`; no request is made. */
export function configErrorResult(
  site: MisconfiguredSite,
  options: ResultOptions = {},
): CheckResult {
  return {
    ...resultHead(site, options),
    timeToHeadersMs: null,
    responseTimeMs: null,
    statusCode: null,
    pattern: null,
    patternMatched: null,
    certExpiresAt: null,
    ...NO_CONNECTION_DETAILS,
    up: false,
    error: {
      kind: "config",
      message: `This checker cannot check the site as configured: ${site.problems.join("; ")}`,
    },
  };
}
