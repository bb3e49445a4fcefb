/**
 * Where checks are made from: the checker's region and which process it is. Results carry both,
 * and every request says the region in its User-Agent, so a site owner (or a test's target) can
 * tell the vantage points apart.
 *
 * @module
 */
import { hostname } from "node:os";
import { DEFAULT_REGION } from "./result.ts";
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
