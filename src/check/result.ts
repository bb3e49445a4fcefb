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
export const CHECK_RESULT_VERSION = 1;

/** PostgreSQL cannot store a NUL character in text: a message carrying one is unreadable. */
const noNul = { error: "must not contain NUL characters (PostgreSQL cannot store them)" };

const milliseconds = z.number().nonnegative().describe("Milliseconds, from a monotonic clock");

/** The message format, version 1. */
export const checkResultSchema = z.strictObject({
  version: z.literal(CHECK_RESULT_VERSION).describe("Message format version"),
  checkId: z.uuidv7().describe("Unique id of this check; UUIDv7, so ids sort by time"),
  siteId: z.string().min(1).regex(NO_NUL, noNul).describe("The site's id from the sites file"),
  siteName: z.string().min(1).regex(NO_NUL, noNul).describe("The site's display name"),
  // (refine, not regex: the JSON schema keeps `format: uri`, which allows no NUL either)
  url: z.url().refine((url) => NO_NUL.test(url), noNul).describe("The URL requested first"),
  checkedAt: z.iso.datetime({ offset: false }).describe("When the request started, UTC"),
  timeToHeadersMs: milliseconds.nullable().describe(
    "Request start to response headers; null when no response arrived",
  ),
  responseTimeMs: milliseconds.nullable().describe(
    "Request start to the end of the body; null when no complete response arrived",
  ),
  statusCode: z.int().min(100).max(999).nullable().describe(
    "HTTP status of the final response; null when none arrived",
  ),
  pattern: z.string().regex(NO_NUL, noNul).nullable().describe(
    "The regular expression looked for; null when none",
  ),
  patternMatched: z.boolean().nullable().describe(
    "Whether the body matched the pattern; null when there is no pattern or no body was read",
  ),
  certExpiresAt: z.iso.datetime({ offset: false }).nullable().describe(
    "When the HTTPS server's certificate expires, UTC; null for http or when it could not be read",
  ),
  up: z.boolean().describe("True when the check met every expectation of the site"),
  error: z.strictObject({
    kind: z.enum(ERROR_KINDS).describe("Failure class"),
    message: z.string().regex(NO_NUL, noNul).describe("Human-readable detail"),
  }).nullable().describe("Why the check failed; null when up"),
}).describe("One check of one website, as published to Kafka by `monitor produce`");

/** One check of one site. */
export type CheckResult = z.infer<typeof checkResultSchema>;

/** Failure detail of a {@link CheckResult}. */
export type CheckError = NonNullable<CheckResult["error"]>;
