/**
 * Check results for tests that need many valid ones without running checks.
 *
 * @module
 */
import { v7 as uuidv7 } from "uuid";
import { CHECK_RESULT_VERSION, type CheckError, type CheckResult } from "../../src/check/result.ts";
import type { ResultMessage } from "../../src/db/results.ts";

/** Fields of a result to set; `up` and `error` separately, as a computed pair. */
export type ResultOverrides =
  & Partial<Omit<CheckResult, "up" | "error">>
  & { up?: boolean; error?: CheckError | null };

/**
 * A result of an up site, with any field overridden (a down one needs `up: false` and an `error`;
 * nothing is validated, so tests can also build results the schema refuses).
 */
export function makeResult(overrides: ResultOverrides = {}): CheckResult {
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
  } as CheckResult;
}

/**
 * Results as the consumer hands them to the database: with their place on a topic (offsets from
 * `firstOffset`) and their bytes.
 */
export function asMessages(results: readonly CheckResult[], firstOffset = 0): ResultMessage[] {
  return results.map((result, i) => ({
    topic: "test-topic",
    partition: 0,
    offset: String(firstOffset + i),
    key: new TextEncoder().encode(result.siteId),
    value: new TextEncoder().encode(JSON.stringify(result)),
    result,
  }));
}
