/**
 * The result of one check of one site: the single datum that flows from the checker through Kafka
 * into PostgreSQL. Its zod schema is the message format; `schema/check_result.v1.json` is generated
 * from it.
 *
 * @module
 */
import { z } from "zod";
import { NO_NUL } from "../text.ts";

/** Why a check failed. Documented in the README; stored as text in `checks.error_kind`. */
export const ERROR_KINDS = [
  "timeout",
  "dns",
  "refused",
  "reset",
  "tls",
  "connection",
  "too_many_redirects",
  "body_too_large",
  "unexpected_status",
  "pattern_mismatch",
  "invalid_response",
] as const;

/** One of {@link ERROR_KINDS}. */
export type ErrorKind = typeof ERROR_KINDS[number];

/** The current message format version; a consumer rejects versions it does not know. */
export const CHECK_RESULT_VERSION = 1 as const;

/** PostgreSQL cannot store a NUL character in text: a message carrying one is unreadable. */
const noNul = { error: "must not contain NUL characters (PostgreSQL cannot store them)" };

/**
 * Text PostgreSQL stores as it is: no NUL, and no lone UTF-16 surrogate (it would be stored as
 * U+FFFD, and two site ids differing only there would become one site).
 */
function storableText() {
  return z.string().regex(NO_NUL, noNul).refine((text) => text.isWellFormed(), {
    error: "must not contain lone UTF-16 surrogates",
  });
}

/**
 * Longest site id: PostgreSQL indexes it (a btree entry holds at most 2 704 bytes, and a character
 * takes up to 4 in UTF-8).
 */
export const MAX_SITE_ID_LENGTH = 512;

/** The longest a check can take: its timeout is at most a day; two leave room for the rest. */
const MAX_MILLISECONDS = 2 * 86_400_000;

// Nothing between 0 and a nanosecond: PostgreSQL refuses arithmetic that underflows, and a
// subnormal number in a rollup would make every query of it fail.
const milliseconds = z.union([z.literal(0), z.number().min(1e-6).max(MAX_MILLISECONDS)], {
  error: "must be 0 or a number of milliseconds from 1e-6 (a nanosecond) to two days",
}).describe("Milliseconds, from a monotonic clock");

/**
 * A UTC time as `toISOString()` writes it (milliseconds: PostgreSQL would round more digits, maybe
 * into the next day), in the years `years` matches.
 */
function utcTime(years: string, error: string) {
  return z.iso.datetime({ offset: false, precision: 3 })
    .regex(new RegExp(`^(?:${years})-`), { error });
}

/** What every check result has, up or down. */
const checkFields = {
  version: z.literal(CHECK_RESULT_VERSION).describe("Message format version"),
  checkId: z.uuidv7().describe("Unique id of this check; UUIDv7, so ids sort by time"),
  siteId: storableText().min(1).max(MAX_SITE_ID_LENGTH).describe(
    "The site's id from the sites file",
  ),
  siteName: storableText().min(1).describe("The site's display name"),
  // (refine, not regex: the JSON schema keeps `format: uri`, which allows neither)
  url: z.url().refine((url) => NO_NUL.test(url) && url.isWellFormed(), {
    error: "must not contain NUL characters or lone UTF-16 surrogates",
  }).describe(
    "The URL requested first",
  ),
  checkedAt: utcTime("[2-9]\\d{3}", "must be a UTC time from the year 2000 to 9999").describe(
    "When the request started, UTC, from the year 2000",
  ),
  timeToHeadersMs: milliseconds.nullable().describe(
    "Request start to response headers; null when no response arrived",
  ),
  responseTimeMs: milliseconds.nullable().describe(
    "Request start to the end of the body; null when no complete response arrived",
  ),
  statusCode: z.int().min(100).max(999).nullable().describe(
    "HTTP status of the final response; null when none arrived",
  ),
  pattern: storableText().nullable().describe(
    "The regular expression looked for; null when none",
  ),
  patternMatched: z.boolean().nullable().describe(
    "Whether the body matched the pattern; null when there is no pattern or no body was read",
  ),
  // PostgreSQL has no year 0. (No lookahead: RE2 and many JSON Schema validators have none.)
  certExpiresAt: utcTime(
    "000[1-9]|00[1-9]\\d|0[1-9]\\d{2}|[1-9]\\d{3}",
    "must be a UTC time from the year 1 to 9999",
  ).nullable()
    .describe(
      "When the HTTPS server's certificate expires, UTC; null for http or when it could not be read",
    ),
};

/** The message format, version 1: a check that met every expectation, or one that failed. */
export const checkResultSchema = z.discriminatedUnion("up", [
  z.strictObject({
    ...checkFields,
    up: z.literal(true).describe("The check met every expectation of the site"),
    error: z.null().describe("Null when up"),
  }),
  z.strictObject({
    ...checkFields,
    up: z.literal(false).describe("The check failed"),
    error: z.strictObject({
      kind: z.enum(ERROR_KINDS).describe("Failure class"),
      message: storableText().describe("Human-readable detail"),
    }).describe("Why the check failed"),
  }),
]).refine((r) => r.pattern !== null || r.patternMatched === null, {
  path: ["patternMatched"],
  error: "must be null when there is no pattern",
}).describe("One check of one website, as published to Kafka by `monitor produce`");

/** One check of one site. */
export type CheckResult = z.infer<typeof checkResultSchema>;

/** Failure detail of a {@link CheckResult}. */
export type CheckError = NonNullable<CheckResult["error"]>;
