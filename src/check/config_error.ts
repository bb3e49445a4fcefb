/**
 * The result of a site a checker cannot check as configured (a `${NAME}` it lacks): a failed check
 * of kind `config`, published on the site's interval, so the site shows as failing, not unchecked.
 *
 * @module
 */
import { type CheckOrigin, resultHead } from "./origin.ts";
import { type CheckResult, NO_CONNECTION_DETAILS } from "./result.ts";

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
