/**
 * Where checks are made from: results carry the region and the process, and every request says
 * the region in its User-Agent, so a site owner can tell the vantage points apart.
 *
 * @module
 */
import { hostname } from "node:os";
import { v7 as uuidv7 } from "uuid";
import { CHECK_RESULT_VERSION, DEFAULT_REGION } from "./result.ts";
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
