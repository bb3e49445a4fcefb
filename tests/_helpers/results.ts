/**
 * Check results for tests that need many valid ones without running checks.
 *
 * @module
 */
import { v7 as uuidv7 } from "uuid";
import { CHECK_RESULT_VERSION, type CheckResult } from "../../src/check/result.ts";

/** A valid result of an up site, with any field overridden. */
export function makeResult(overrides: Partial<CheckResult> = {}): CheckResult {
  return {
    version: CHECK_RESULT_VERSION,
    checkId: uuidv7(),
    siteId: "site-a",
    siteName: "Site A",
    url: "https://a.example/",
    checkedAt: new Date().toISOString(),
    timeToHeadersMs: 12.5,
    responseTimeMs: 20.25,
    statusCode: 200,
    pattern: null,
    patternMatched: null,
    certExpiresAt: null,
    up: true,
    error: null,
    ...overrides,
  };
}
