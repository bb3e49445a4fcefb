/**
 * The result of one check, the datum that flows through Kafka into PostgreSQL; its zod schema is
 * the message format (`schema/check_result.v1.json`).
 *
 * @module
 */
import { z } from "zod";
import { REGION_PATTERN } from "../config/settings_schema.ts";
import { LIMITS, MAX_PATTERN_SOURCE_CHARS } from "../config/sites_schema.ts";
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
  "denied",
  "config",
] as const;

/** One of {@link ERROR_KINDS}. */
export type ErrorKind = typeof ERROR_KINDS[number];

/** The message format version. */
export const CHECK_RESULT_VERSION = 1 as const;

/** Text PostgreSQL stores as it is: a lone surrogate would become U+FFFD, merging two site ids. */
function storableText() {
  return z.string()
    .regex(NO_NUL, { error: "must not contain NUL characters (PostgreSQL cannot store them)" })
    .refine((text) => text.isWellFormed(), { error: "must not contain lone UTF-16 surrogates" });
}

/** Longest site id: a btree entry holds at most 2 704 bytes, a character up to 4. */
const MAX_SITE_ID_LENGTH = 512;

/** A check's timeout is at most a day; two leave room for the rest. */
const MAX_MILLISECONDS = 2 * 86_400_000;

// Nothing between 0 and a nanosecond: a subnormal number in a rollup makes PostgreSQL's sums fail.
const milliseconds = z.union([z.literal(0), z.number().min(1e-6).max(MAX_MILLISECONDS)], {
  error: "must be 0 or a number of milliseconds from 1e-6 (a nanosecond) to two days",
}).describe("Milliseconds, from a monotonic clock");

/** A UTC time as `toISOString()` writes it (more digits could round into the next day). */
function utcTime(years: string, error: string) {
  return z.iso.datetime({ offset: false, precision: 3 })
    .regex(new RegExp(`^(?:${years})-`), { error });
}

/** Longest text kept from a certificate's names. */
export const MAX_CERT_NAME_LENGTH = 1_000;
/** Most alternative names kept (a hostile certificate may carry thousands). */
export const MAX_CERT_ALT_NAMES = 100;

const phase = (what: string) =>
  milliseconds.nullable().describe(
    `${what}, summed over redirect hops; null when it never happened`,
  );

const REFERENCE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;

const fields = {
  version: z.literal(CHECK_RESULT_VERSION).describe("Message format version"),
  checkId: z.uuidv7().describe("Unique id of this check; UUIDv7, so ids sort by time"),
  siteId: storableText().min(1).max(MAX_SITE_ID_LENGTH).describe(
    "The site's id from the sites file",
  ),
  siteName: storableText().min(1).describe("The site's display name"),
  url: storableText().max(LIMITS.maxUrlChars)
    .refine((url) => URL.canParse(url.replaceAll(REFERENCE, "x")), {
      error: "must be an absolute URL, with ${NAME} references at most",
    }).describe(
      "The URL requested first, as the sites file writes it: ${NAME} references are left unresolved, so secrets stay out of results",
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
  pattern: storableText().max(MAX_PATTERN_SOURCE_CHARS).nullable().describe(
    "The regular expression looked for, flags inline; null when none",
  ),
  patternMatched: z.boolean().nullable().describe(
    "Whether the body matched the pattern; null when there is no pattern or no body was read",
  ),
  // PostgreSQL has no year 0; no lookahead, which RE2 and many JSON Schema validators lack.
  certExpiresAt: utcTime(
    "000[1-9]|00[1-9]\\d|0[1-9]\\d{2}|[1-9]\\d{3}",
    "must be a UTC time from the year 1 to 9999",
  ).nullable()
    .describe(
      "When the HTTPS server's certificate expires, UTC; null for http or when it could not be read",
    ),
  dnsMs: phase("Resolving the host name (none for an IP address)"),
  connectMs: phase("Opening the TCP connection"),
  tlsMs: phase("The TLS handshake"),
  firstByteMs: phase("Request sent to the first byte of the response"),
  transferMs: phase("First byte to the end of the body"),
  remoteAddress: z.union([z.ipv4(), z.ipv6()]).nullable().describe(
    "IP address that answered the last request; null when no connection was made",
  ),
  httpVersion: z.string().regex(/^\d(\.\d)?$/).nullable().describe(
    'HTTP version of the final response ("1.1"); null when none arrived',
  ),
  tlsVersion: storableText().max(32).nullable().describe(
    'TLS version of the final connection ("TLSv1.3"); null for http or before the handshake',
  ),
  certSubject: storableText().max(MAX_CERT_NAME_LENGTH).nullable().describe(
    "Subject of the final server's certificate (e.g. CN=example.com); null when none was read",
  ),
  certIssuer: storableText().max(MAX_CERT_NAME_LENGTH).nullable().describe(
    "Issuer of the final server's certificate; null when none was read",
  ),
  certAltNames: z.array(storableText().max(MAX_CERT_NAME_LENGTH)).max(MAX_CERT_ALT_NAMES)
    .nullable().describe(
      `Subject alternative names of the certificate (e.g. DNS:example.com), the first ${MAX_CERT_ALT_NAMES}; null when none was read`,
    ),
  region: z.string().regex(REGION_PATTERN).describe(
    'The region of the checker (its --region, "default" unless told)',
  ),
  checker: storableText().min(1).max(255).describe(
    "Which checker process made the check: host name and process id",
  ),
};

/** The message format: a check that met every expectation of its site, or one that failed. */
export const checkResultSchema = z.discriminatedUnion("up", [
  z.strictObject({
    ...fields,
    up: z.literal(true).describe("The check met every expectation of the site"),
    error: z.null().describe("Null when up"),
  }),
  z.strictObject({
    ...fields,
    up: z.literal(false).describe("The check failed"),
    error: z.strictObject({
      kind: z.enum(ERROR_KINDS).describe("Failure class"),
      message: storableText().describe("Human-readable detail"),
    }).describe("Why the check failed"),
  }),
]).refine(({ pattern, patternMatched }) => pattern !== null || patternMatched === null, {
  path: ["patternMatched"],
  error: "must be null when there is no pattern",
}).describe(
  `One check of one website, as published to Kafka by \`monitor produce\` (version ${CHECK_RESULT_VERSION})`,
);

/** One check of one site. */
export type CheckResult = z.infer<typeof checkResultSchema>;

/** Failure detail of a {@link CheckResult}. */
export type CheckError = NonNullable<CheckResult["error"]>;

/** The connection's details of a check that made no connection. */
export const NO_CONNECTION_DETAILS = {
  dnsMs: null,
  connectMs: null,
  tlsMs: null,
  firstByteMs: null,
  transferMs: null,
  remoteAddress: null,
  httpVersion: null,
  tlsVersion: null,
  certSubject: null,
  certIssuer: null,
  certAltNames: null,
} as const;
