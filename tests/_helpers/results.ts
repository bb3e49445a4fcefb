/**
 * Check results for tests that need many valid ones without running checks.
 *
 * @module
 */
import { v7 as uuidv7 } from "uuid";
import {
  CHECK_RESULT_VERSION,
  type CheckError,
  type CheckResult,
  NO_CONNECTION_DETAILS,
} from "../../src/check/result.ts";
import type { ResultMessage } from "../../src/db/results.ts";

/** Fields of a result to set; `up` and `error` separately, as a computed pair. */
export type ResultOverrides =
  & Partial<Omit<CheckResult, "up" | "error">>
  & { up?: boolean; error?: CheckError | null };

/**
 * What an HTTPS check that went through every phase records of its connection, to spread into
 * {@link makeResult} (whose own default is a check that recorded none).
 */
export const HTTPS_CONNECTION_DETAILS: Readonly<
  Pick<CheckResult, keyof typeof NO_CONNECTION_DETAILS>
> = {
  dnsMs: 1.5,
  connectMs: 0.75,
  tlsMs: 4.25,
  firstByteMs: 11,
  transferMs: 2.5,
  remoteAddress: "203.0.113.7",
  httpVersion: "1.1",
  tlsVersion: "TLSv1.3",
  certSubject: "CN=a.example",
  certIssuer: "CN=Test CA",
  certAltNames: ["DNS:a.example"],
};

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
    ...NO_CONNECTION_DETAILS,
    region: "default",
    checker: "test-host:1",
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
