/**
 * Where checks are made from: results carry the region and the process, and every request says
 * the region in its User-Agent, so a site owner can tell the vantage points apart. A site a checker
 * cannot check as configured (a `${NAME}` it lacks) gets a failed result of kind `config` on its
 * interval, so it shows as failing, not unchecked.
 *
 * @module
 */
import { hostname } from "node:os";
import { v7 as uuidv7 } from "uuid";
import {
  CHECK_RESULT_VERSION,
  type CheckResult,
  DEFAULT_REGION,
  NO_CONNECTION_DETAILS,
} from "./result.ts";
import { VERSION } from "../version.ts";

/** A checker: its `--region`, and the process (host name and process id). */
export interface CheckOrigin {
  readonly region: string;
  readonly checker: string;
}

/** This process as a checker of `region`. */
export function localOrigin(region: string = DEFAULT_REGION): CheckOrigin {
  return { region, checker: `${hostname()}:${Deno.pid}` };
}

/** The User-Agent of every request a checker makes. */
export function userAgent(origin: CheckOrigin): string {
  return `website-monitor/${VERSION} (+https://github.com/website-monitor/monitor; region=${origin.region})`;
}

/** A result's first fields: version, origin, a new check id, the site and its URL as written. */
export function resultHead(
  site: { readonly id: string; readonly name: string; readonly urlAsWritten: string },
  options: { readonly origin?: CheckOrigin; readonly newId?: () => string } = {},
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
  } as const;
}

/** A site this checker cannot check, and why. */
export interface MisconfiguredSite {
  readonly id: string;
  readonly name: string;
  /** Its URL as written, references unresolved. */
  readonly urlAsWritten: string;
  readonly intervalMs: number;
  /** Each `key: what is wrong`. */
  readonly problems: readonly string[];
}

/** A failed check of kind `config`; no request is made. Options as for `checkSite`. */
export function configErrorResult(
  site: MisconfiguredSite,
  options: {
    readonly now?: () => number;
    readonly newId?: () => string;
    readonly origin?: CheckOrigin;
  } = {},
): CheckResult {
  return {
    ...resultHead(site, options),
    checkedAt: new Date((options.now ?? Date.now)()).toISOString(),
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
