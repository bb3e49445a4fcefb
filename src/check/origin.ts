/**
 * Where checks are made from: the checker's region and which process it is. Results carry both,
 * and every request says the region in its User-Agent, so a site owner (or a test's target) can
 * tell the vantage points apart.
 *
 * @module
 */
import { hostname } from "node:os";
import { v7 as uuidv7 } from "uuid";
import { CHECK_RESULT_VERSION, DEFAULT_REGION } from "./result.ts";
import { VERSION } from "../version.ts";

/** A checker: its region, and a name for the process. */
export interface CheckOrigin {
  /** Its `--region` (see `REGION_PATTERN`). */
  readonly region: string;
  /** Host name and process id: which process checked, stable for as long as it runs. */
  readonly checker: string;
}

/**
 * This process as a checker of `region`.
 *
 * @param region The region; defaults to "default".
 * @returns The origin.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localOrigin } from "./origin.ts";
 * assert.match(localOrigin("eu").checker, new RegExp(`:${Deno.pid}$`));
 * ```
 */
export function localOrigin(region: string = DEFAULT_REGION): CheckOrigin {
  return { region, checker: `${hostname()}:${Deno.pid}` };
}

/**
 * The User-Agent of every request a checker makes.
 *
 * @param origin The checker.
 * @returns The header's value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { userAgent } from "./origin.ts";
 * assert.match(userAgent({ region: "eu", checker: "h:1" }), /^website-monitor\/\S+ \(.*; region=eu\)$/);
 * ```
 */
export function userAgent(origin: CheckOrigin): string {
  return `website-monitor/${VERSION} (+https://github.com/website-monitor/monitor; region=${origin.region})`;
}

/**
 * What every result of a site says first: the format version, where the check was made from, a
 * new check id, the site, and the URL as written.
 *
 * @param site The site's id, name and URL as written.
 * @param options The origin (this process in "default" unless given) and the id generator.
 * @returns The result's first fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultHead } from "./origin.ts";
 * const head = resultHead({ id: "a", name: "A", urlAsWritten: "https://${SITE_HOST}/" });
 * assert.equal(head.url, "https://${SITE_HOST}/");
 * assert.equal(head.region, "default");
 * ```
 */
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
