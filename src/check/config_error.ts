/**
 * The result of a site a checker cannot check as configured (a `${NAME}` it lacks, a value that
 * is no longer valid once resolved): a failed check of kind `config`, published on the site's
 * interval like any other, so the site shows as failing rather than silently unchecked.
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

/**
 * A failed check of kind `config` for a site that cannot be checked.
 *
 * @param site The site and its problems.
 * @param options Wall clock, id generator and origin, as for `checkSite`.
 * @returns The result; no request was made.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configErrorResult } from "./config_error.ts";
 * const result = configErrorResult({
 *   id: "a", name: "a", urlAsWritten: "https://${HOST}/", intervalMs: 60_000,
 *   problems: ["url: refers to ${HOST}, which is not set in the environment"],
 * });
 * assert.equal(result.error?.kind, "config");
 * assert.equal(result.url, "https://${HOST}/");
 * ```
 */
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
