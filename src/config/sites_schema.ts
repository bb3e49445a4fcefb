/**
 * The sites file's zod schema, with the alert/ room's schemas of the keys it parses.
 *
 * @module
 */
import { RE2JS } from "re2js";
import { z } from "zod";
import { NO_CONTROL_CHARACTERS, NO_NUL } from "../text.ts";
import { durationPattern, durationSchema } from "./duration.ts";
import { programSize } from "./pattern_size.ts";

/** Bounds that keep a typo from hammering a site or exhausting the monitor. */
export const LIMITS = {
  minIntervalMs: 5_000,
  maxIntervalMs: 24 * 3_600_000,
  minTimeoutMs: 100,
  maxRedirects: 30,
  maxBodyBytes: 16 * 1024 * 1024,
  /** Every result carries the pattern to Kafka and PostgreSQL. */
  maxPatternChars: 4_096,
  /** Matching costs body length times this: 1 MiB took 0.2 s at 1,000, two minutes at 4,000. */
  maxPatternInstructions: 1_000,
  maxNameChars: 200,
  /** A result's format's bound; servers refuse far shorter ones. */
  maxUrlChars: 65_536,
  /** Servers refuse more (Node.js at 16 KiB of headers, nginx at 8 KiB a line). */
  maxHeaders: 100,
  maxHeaderChars: 16_384,
  maxRequestBodyChars: 65_536,
} as const;

/** Methods a check may use. */
export const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

const DURATION_HINT = 'must be a duration such as "30s", "5m" or "1h"';
const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** What {@link SITE_ID} allows, for messages and the README. */
export const SITE_ID_RULE = '1 to 64 letters, digits, ".", "_" or "-", the first a letter or digit';
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerName = z.string().regex(HEADER_NAME, { error: "must be a valid HTTP header name" });
const LATIN1 = /^[^\u0100-\uffff]*$/;
const STATUS_RANGE = /^([1-5]\d\d)-([1-5]\d\d)$/;
const noControl = { error: "must not contain control characters" };
const atMost = (chars: number) => ({ error: `must be at most ${chars} characters` });
/** A "\\ud800" escape in YAML: the results would be refused (the message format forbids it). */
const loneSurrogate = {
  error: "must not contain a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape)",
};

function duration(minMs: number, maxMs: number) {
  // The JSON Schema carries the bounds as this pattern: what it accepts, the program accepts.
  return durationSchema(minMs, maxMs, DURATION_HINT).regex(durationPattern(minMs, maxMs), {
    error: 'must be whole numbers of units, largest first and each once, such as "90s" or "1m30s"',
  });
}

/** An absolute http(s) URL: of a site, or of a channel. */
export const httpUrl = z.url({
  protocol: /^https?$/,
  hostname: z.regexes.hostname,
  error: "must be an absolute http(s) URL",
});

const STATUS_HINT = { error: 'must be a status such as 200 or a range such as "200-299"' };
const statusEntry = z.union([
  z.int(STATUS_HINT).min(100, STATUS_HINT).max(599, STATUS_HINT),
  z.string().regex(STATUS_RANGE, { ...STATUS_HINT, abort: true })
    .refine((range) => {
      const [from, to] = statusRange(range);
      return from <= to;
    }, { error: "is an empty range" }),
], STATUS_HINT);

/** Keys a site may set and the `defaults` block may provide. */
const siteOptions = {
  interval: duration(LIMITS.minIntervalMs, LIMITS.maxIntervalMs)
    .describe("How often the site is checked, from 5s to 24h, for example 30s or 5m (default 60s)")
    .optional(),
  timeout: duration(LIMITS.minTimeoutMs, LIMITS.maxIntervalMs)
    .describe(
      "How long one check may take, body included, from 100ms to the interval (default 10s, or the interval when shorter)",
    ).optional(),
  method: z.enum(METHODS, { error: `must be one of ${METHODS.join(", ")}` })
    .describe("HTTP method (default GET)").optional(),
  headers: z.record(
    headerName,
    // node:http refuses the request otherwise (ERR_INVALID_CHAR): every check would fail.
    z.string({ error: "must be a string" }).regex(NO_CONTROL_CHARACTERS, noControl)
      .regex(LATIN1, { error: "must be Latin-1 text: a header carries no character above U+00FF" }),
  ).refine((headers) => Object.keys(headers).length <= LIMITS.maxHeaders, {
    error: `must be at most ${LIMITS.maxHeaders} headers`,
  }).refine((headers) => Object.entries(headers).flat().join("").length <= LIMITS.maxHeaderChars, {
    error: `must be at most ${LIMITS.maxHeaderChars} characters of names and values together`,
  }).describe(
    `Request headers, at most ${LIMITS.maxHeaders} of ${LIMITS.maxHeaderChars} characters in all; \${VAR} takes a value from the environment`,
  ).optional(),
  forward_headers_on_redirect: z.array(headerName, { error: "must be a list of header names" })
    .describe(
      "Headers still sent after a redirect to another origin (never after one from https to http); the others are not",
    ).optional(),
  expect_status: z.array(statusEntry, { error: "must be a list of statuses or ranges" })
    .min(1, { error: "must list at least one status" })
    .describe('Statuses that count as up, e.g. [200, "300-399"] (default 200-399)').optional(),
  follow_redirects: z.union([
    z.boolean(),
    z.int().min(0).max(LIMITS.maxRedirects, { error: `must be at most ${LIMITS.maxRedirects}` }),
  ], {
    error: `must be true, false or a number of redirects up to ${LIMITS.maxRedirects}`,
  }).describe("Follow redirects: true (up to 10), false, or the most to follow").optional(),
  tls_verify: z.boolean({ error: "must be true or false" }).describe(
    "Verify the server's TLS certificate (default true); false checks a site with a broken one",
  ).optional(),
  ca_file: z.string({ error: "must be the path of a PEM file" }).min(1).describe(
    "CA certificate(s) (PEM) to verify the site with instead of the system's (as curl's --cacert), relative to this file",
  ).optional(),
  cert_min_days: z.number({ error: "must be a number of days" }).min(0).describe(
    "Fail (kind tls) when the server certificate expires within this many days",
  ).optional(),
  max_body_bytes: z.int({ error: "must be a whole number of bytes" }).min(1)
    .max(LIMITS.maxBodyBytes)
    .describe("Most body bytes read (after decompression); more is body_too_large (default 1 MiB)")
    .optional(),
};

/**
 * Refuses a pattern too costly to compile and match with (before compiling it) or that RE2 cannot
 * compile; `withoutValue` is the message for one from a `${NAME}`, which may be a secret.
 */
function checkPattern(context: z.core.ParsePayload<string>): void {
  const source = context.value;
  const refuse = (message: string, withoutValue: string) =>
    context.issues.push({ code: "custom", input: source, message, params: { withoutValue } });
  const most = LIMITS.maxPatternInstructions;
  const size = programSize(source);
  if (size > most) {
    const why = "(x{n,m} is x repeated m times)";
    refuse(
      `is too complex: it compiles to about ${size} instructions, more than the ${most} allowed ${why}`,
      `is too complex: it compiles to more than the ${most} instructions allowed ${why}`,
    );
    return;
  }
  try {
    RE2JS.compile(source);
  } catch (error) {
    // re2js ends its message with the offending fragment in backquotes; its offset is the position.
    const detail = error instanceof Error
      ? error.message.replace(/^error parsing regexp: /, "")
      : "";
    const fragment = /`([^`]*)`$/.exec(detail)?.[1];
    const position = fragment === undefined ? -1 : source.indexOf(fragment);
    const at = position < 0 ? "" : ` at position ${position + 1}`;
    refuse(
      `is not a valid RE2 regular expression${at}: ${detail}`,
      `is not a valid RE2 regular expression: ${detail.replace(/: `[\s\S]*$/, "")}`,
    );
  }
}

/** A pattern's text, before any rule about the expression in it. */
const regexText = z.string({ error: "must be a regular expression in a string" })
  // A pattern goes into every result, and PostgreSQL cannot store a NUL.
  .regex(NO_NUL, { error: 'must not contain a NUL character: write "\\x00" to match one' })
  .refine((pattern) => pattern.isWellFormed(), loneSurrogate);

const regex = regexText
  // Checked first and alone: a long text is neither measured nor compiled.
  .max(LIMITS.maxPatternChars, { ...atMost(LIMITS.maxPatternChars), abort: true })
  .check(checkPattern);

function patternOf(text: z.ZodType<string>) {
  return z.union([
    text,
    z.strictObject({
      regex: text,
      flags: z.string().regex(/^[ims]*$/, { error: 'must be made of "i", "m" and "s"' })
        .describe("i: case-insensitive, m: ^ and $ match at line ends, s: . matches newlines")
        .optional(),
    }),
  ], { error: 'must be a regular expression, or a map with "regex" and "flags"' });
}

/** A pattern with its shape checked, not its expression: checkers of the sites topic check that once resolved. */
export const patternShapeSchema = patternOf(regexText);

/** The longest pattern a result records: the longest regex with every flag inline (`(?ims)`). */
export const MAX_PATTERN_SOURCE_CHARS = LIMITS.maxPatternChars + "(?ims)".length;

/** The sites file as written, with the schemas of the keys another room parses. */
export function sitesFileSchemaWith<Alert extends z.ZodType, Channels extends z.ZodType>(
  keys: { readonly alert: Alert; readonly channels: Channels },
) {
  const options = { ...siteOptions, alert: keys.alert.optional() };
  return z.strictObject({
    defaults: z.strictObject(options).describe("Values for keys that a site leaves out")
      .optional(),
    sites: z.array(
      z.strictObject({
        id: z.string({ error: "is required: a short unique name for the site" })
          .regex(SITE_ID, { error: `must be ${SITE_ID_RULE}` })
          .describe("Unique id of the site; the Kafka message key"),
        name: z.string({ error: "must be a string" }).min(1)
          .max(LIMITS.maxNameChars, atMost(LIMITS.maxNameChars))
          .regex(NO_CONTROL_CHARACTERS, noControl)
          .refine((name) => name.isWellFormed(), loneSurrogate)
          .describe("Display name; defaults to the id").optional(),
        url: httpUrl.max(LIMITS.maxUrlChars, atMost(LIMITS.maxUrlChars))
          .refine((url) => NO_CONTROL_CHARACTERS.test(url), noControl)
          .refine((url) => url.isWellFormed(), loneSurrogate)
          .describe("The address to request; ${VAR} takes a value from the environment"),
        pattern: patternOf(regex).describe(
          `A regular expression (RE2 syntax) the body must contain, at most ${LIMITS.maxPatternChars} characters; (?i) makes it case-insensitive`,
        ).optional(),
        body: z.string({ error: "must be a string" })
          .max(LIMITS.maxRequestBodyChars, atMost(LIMITS.maxRequestBodyChars)).describe(
            `Request body, for POST, PUT, PATCH, DELETE or OPTIONS; at most ${LIMITS.maxRequestBodyChars} characters`,
          ).optional(),
        ...options,
      }),
      { error: "must be a list of sites" },
    ).min(1, { error: "must list at least one site" }).describe("The websites to check"),
    channels: keys.channels.optional(),
  }).describe("website-monitor sites file");
}

/** The sites file as config reads it: `alert` blocks and `channels` are for alert/ to parse. */
export const siteKeysSchema = sitesFileSchemaWith({ alert: z.unknown(), channels: z.unknown() });

/** The parsed file as config reads it; the keys sites and defaults share. */
export type SiteKeys = z.infer<typeof siteKeysSchema>;
export type SiteOptions = NonNullable<SiteKeys["defaults"]>;

/** A pattern as one RE2 source, flags inline: `{ regex: "a.b", flags: "is" }` → `(?is)a.b`. */
export function patternSource(pattern: NonNullable<SiteKeys["sites"][number]["pattern"]>): string {
  if (typeof pattern === "string") return pattern;
  const flags = [...new Set(pattern.flags ?? "")].filter((f) => "ims".includes(f)).join("");
  return flags === "" ? pattern.regex : `(?${flags})${pattern.regex}`;
}

/** A status list entry as an inclusive range. */
export function statusRange(entry: number | string): readonly [number, number] {
  if (typeof entry === "number") return [entry, entry];
  const [, from, to] = STATUS_RANGE.exec(entry)!;
  return [Number(from), Number(to)];
}
