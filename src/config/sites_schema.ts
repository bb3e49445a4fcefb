/**
 * The sites file as written: its zod schema, from which `schema/sites.json` is generated. Rules
 * that span fields or sites are in `sites.ts`.
 *
 * @module
 */
import { RE2JS } from "re2js";
import { z } from "zod";
import { channelsSchema } from "../alert/channels/config.ts";
import { alertOptionsSchema } from "../alert/rules.ts";
import { NO_CONTROL_CHARACTERS, NO_NUL } from "../text.ts";
import { formatDuration, parseDurationMs } from "./duration.ts";

/** Bounds that keep a typo from hammering a site or exhausting the monitor. */
export const LIMITS = {
  minIntervalMs: 5_000,
  maxIntervalMs: 24 * 3_600_000,
  minTimeoutMs: 100,
  maxRedirects: 30,
  maxBodyBytes: 16 * 1024 * 1024,
} as const;

/** Methods a check may use. */
export const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const DURATION_HINT = 'must be a duration such as "30s", "5m" or "500ms"';
const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const STATUS_RANGE = /^([1-5]\d\d)-([1-5]\d\d)$/;
/** Text that goes into results, logs and the terminal: no control characters. */
const noControl = { error: "must not contain control characters" };
/** A "\\ud800" escape in YAML: the results would be refused (the message format forbids it). */
const loneSurrogate = {
  error: "must not contain a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape)",
};
const FLAG_BITS = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL } as const;

function duration(minMs: number, maxMs: number) {
  return z.string({ error: DURATION_HINT })
    .regex(DURATION, { error: DURATION_HINT })
    // A text that is not a duration has its own message already.
    .refine((text) => (parseDurationMs(text) ?? minMs) >= minMs, {
      error: `must be at least ${formatDuration(minMs)}`,
    })
    .refine((text) => (parseDurationMs(text) ?? maxMs) <= maxMs, {
      error: `must be at most ${formatDuration(maxMs)}`,
    });
}

const statusEntry = z.union([
  z.int().min(100).max(599),
  z.string().regex(STATUS_RANGE),
], { error: 'must be a status such as 200 or a range such as "200-299"' });

/** Keys a site may set and the `defaults` block may provide. */
const siteOptions = {
  interval: duration(LIMITS.minIntervalMs, LIMITS.maxIntervalMs)
    .describe("How often the site is checked, for example 30s or 5m (default 60s)").optional(),
  timeout: duration(LIMITS.minTimeoutMs, LIMITS.maxIntervalMs)
    .describe("How long one check may take, body included (default 10s)").optional(),
  method: z.enum(METHODS, { error: `must be one of ${METHODS.join(", ")}` })
    .describe("HTTP method (default GET)").optional(),
  headers: z.record(
    z.string().regex(HEADER_NAME, { error: "must be a valid HTTP header name" }),
    z.string({ error: "must be a string" }),
  ).describe("Request headers; ${VAR} takes a value from the environment").optional(),
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
  max_body_bytes: z.int({ error: "must be a whole number of bytes" }).min(1).max(
    LIMITS.maxBodyBytes,
  ).describe("Most body bytes read (after decompression); more is body_too_large (default 1 MiB)")
    .optional(),
  // Each key of a site's block wins over the same key of the defaults' block.
  alert: alertOptionsSchema.optional(),
};

/** Rejects what the linear-time engine cannot compile, with the position of the fault. */
function checkPattern(context: z.core.ParsePayload<string>): void {
  const source = context.value;
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
    context.issues.push({
      code: "custom",
      input: source,
      message: `is not a valid RE2 regular expression${at}: ${detail}`,
    });
  }
}

const regex = z.string({ error: "must be a regular expression in a string" })
  // A pattern goes into every result, and PostgreSQL cannot store a NUL.
  .regex(NO_NUL, { error: 'must not contain a NUL character: write "\\x00" to match one' })
  .refine((pattern) => pattern.isWellFormed(), loneSurrogate)
  .check(checkPattern);

/** The sites file as written. */
export const sitesFileSchema = z.strictObject({
  defaults: z.strictObject(siteOptions).describe("Values for keys that a site leaves out")
    .optional(),
  sites: z.array(
    z.strictObject({
      id: z.string({ error: "is required: a short unique name for the site" })
        .regex(SITE_ID, { error: 'must be 1 to 64 letters, digits, ".", "_" or "-"' })
        .describe("Unique id of the site; the Kafka message key"),
      name: z.string({ error: "must be a string" }).min(1).regex(NO_CONTROL_CHARACTERS, noControl)
        .refine((name) => name.isWellFormed(), loneSurrogate)
        .describe(
          "Display name; defaults to the id",
        ).optional(),
      url: z.url({
        protocol: /^https?$/,
        hostname: z.regexes.hostname,
        error: "must be an absolute http(s) URL",
      }).refine((url) => NO_CONTROL_CHARACTERS.test(url), noControl)
        .refine((url) => url.isWellFormed(), loneSurrogate).describe(
          "The address to request; ${VAR} takes a value from the environment",
        ),
      pattern: z.union([
        regex,
        z.strictObject({
          regex,
          flags: z.string().regex(/^[ims]*$/, { error: 'must be made of "i", "m" and "s"' })
            .describe("i: case-insensitive, m: ^ and $ match at line ends, s: . matches newlines")
            .optional(),
        }),
      ], { error: 'must be a regular expression, or a map with "regex" and "flags"' }).describe(
        "A regular expression (RE2 syntax) the body must contain; (?i) makes it case-insensitive",
      ).optional(),
      body: z.string({ error: "must be a string" }).describe(
        "Request body, for POST, PUT, PATCH, DELETE or OPTIONS",
      ).optional(),
      ...siteOptions,
    }),
    { error: "must be a list of sites" },
  ).min(1, { error: "must list at least one site" }).describe("The websites to check"),
  channels: channelsSchema.optional(),
}).describe("website-monitor sites file");

/** The parsed file. */
export type SitesFile = z.infer<typeof sitesFileSchema>;
/** A site as written. */
export type SiteEntry = SitesFile["sites"][number];
/** The keys shared by sites and defaults. */
export type SiteOptions = NonNullable<SitesFile["defaults"]>;

/**
 * The inline-flag form of a pattern: `{ regex: "a.b", flags: "is" }` → `(?is)a.b`.
 *
 * @param pattern As written.
 * @returns One RE2 source string, what the results record.
 */
export function patternSource(pattern: NonNullable<SiteEntry["pattern"]>): string {
  if (typeof pattern === "string") return pattern;
  const flags = [...new Set(pattern.flags ?? "")].filter((f) => f in FLAG_BITS).join("");
  return flags === "" ? pattern.regex : `(?${flags})${pattern.regex}`;
}

/**
 * Reads a status list entry.
 *
 * @returns The inclusive range.
 */
export function statusRange(entry: number | string): readonly [number, number] {
  if (typeof entry === "number") return [entry, entry];
  const [, from, to] = STATUS_RANGE.exec(entry)!;
  return [Number(from), Number(to)];
}
