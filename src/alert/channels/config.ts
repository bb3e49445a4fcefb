/**
 * Notification channels as the sites file holds them: the top-level `channels` map, name →
 * channel, its zod schema ({@link channelsSchema}) for the sites file's schema to take in,
 * {@link readChannels}, which parses the map as config hands it over, and {@link resolveChannel},
 * which applies defaults and reads a CA file. Secrets (a URL's token, a webhook secret, a routing
 * key, a password) are meant to be written as `${VAR}`.
 *
 * @module
 */
import { z } from "zod";
import { parseDurationMs } from "../../config/duration.ts";
import { EVERY_NAME_A_WORD, interpolateEnv, referencedPaths } from "../../config/interpolate.ts";
import { type Report, reportIssues, typedIssues } from "../../config/sites_problems.ts";
import { formatKeyPath, type KeyPath } from "../../config/yaml_source.ts";
import { CHANNEL_NAME, CHANNEL_NAME_HINT, durationSchema } from "../rules.ts";

/** Delivery time bounds. */
export const CHANNEL_DEFAULTS = {
  timeoutMs: 10_000,
  maxTimeoutMs: 300_000,
} as const;

/** The PagerDuty Events API v2 endpoint (`https://events.eu.pagerduty.com/v2/enqueue` in the EU). */
export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

/** The kinds of channel. */
export const CHANNEL_TYPES = ["webhook", "slack", "pagerduty", "email"] as const;

/** One of {@link CHANNEL_TYPES}. */
export type ChannelType = typeof CHANNEL_TYPES[number];

/** A webhook secret shorter than this is guessable. */
const MIN_SECRET_LENGTH = 16;

const httpUrl = z.url({
  protocol: /^https?$/,
  hostname: z.regexes.hostname,
  error: "must be an absolute http(s) URL",
});

const timeout = durationSchema(100, CHANNEL_DEFAULTS.maxTimeoutMs).describe(
  "How long delivering one notification may take (default 10s)",
).optional();

const webhookSchema = z.strictObject({
  type: z.literal("webhook"),
  url: httpUrl.describe("Where the JSON body is POSTed; ${VAR} takes a value from the environment"),
  secret: z.string({ error: "must be a string" }).min(MIN_SECRET_LENGTH, {
    error:
      `must be at least ${MIN_SECRET_LENGTH} characters (openssl rand -hex 32 makes a good one)`,
  }).describe("Shared secret of the HMAC-SHA256 signature; write it as ${VAR}"),
  timeout,
}).describe("A JSON POST signed with HMAC-SHA256 (schema/alert_webhook.v1.json)");

const slackSchema = z.strictObject({
  type: z.literal("slack"),
  url: httpUrl.describe("The Slack incoming webhook URL (it is a secret: write it as ${VAR})"),
  timeout,
}).describe("A Slack incoming webhook");

const pagerDutySchema = z.strictObject({
  type: z.literal("pagerduty"),
  routing_key: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" })
    .describe("Integration key of an Events API v2 integration; write it as ${VAR}"),
  url: httpUrl.describe(`Events API v2 endpoint (default ${PAGERDUTY_EVENTS_URL})`).optional(),
  timeout,
}).describe("PagerDuty Events API v2: trigger on open, resolve on resolve");

const emailSchema = z.strictObject({
  type: z.literal("email"),
  host: z.string({ error: "must be a host name" }).min(1).describe("SMTP server"),
  port: z.int({ error: "must be a port number" }).min(1).max(65_535, {
    error: "must be a port number",
  }).describe("SMTP port (default 465 when secure, else 587)").optional(),
  secure: z.boolean({ error: "must be true or false" }).describe(
    "true: TLS from the first byte (port 465); false: STARTTLS, which the server must offer (default false)",
  ).optional(),
  user: z.string({ error: "must be a string" }).min(1).describe("SMTP user name").optional(),
  password: z.string({ error: "must be a string" }).describe(
    "SMTP password; write it as ${VAR}",
  ).optional(),
  from: z.string({ error: "must be an address" }).min(3).describe(
    'Sender, e.g. "Monitor <monitor@example.com>"',
  ),
  to: z.union([z.string().min(3), z.array(z.string().min(3)).min(1)], {
    error: "must be an address or a list of addresses",
  }).describe("Recipient(s)"),
  ca_file: z.string({ error: "must be the path of a PEM file" }).min(1).describe(
    "CA certificate(s) (PEM) to verify the SMTP server with instead of the system's, relative to this file",
  ).optional(),
  timeout,
}).describe("E-mail over SMTP, always encrypted");

/**
 * One channel as written: `type` says which.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelSchema } from "./config.ts";
 * assert.equal(channelSchema.safeParse({ type: "slack", url: "https://hooks.slack.com/services/T/B/x" }).success, true);
 * assert.equal(channelSchema.safeParse({ type: "sms" }).success, false);
 * ```
 */
export const channelSchema = z.discriminatedUnion("type", [
  webhookSchema,
  slackSchema,
  pagerDutySchema,
  emailSchema,
], { error: `must have a type: one of ${CHANNEL_TYPES.join(", ")}` });

/** A channel as written. */
export type ChannelEntry = z.infer<typeof channelSchema>;

/**
 * The top-level `channels` map: name → channel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelsSchema } from "./config.ts";
 * const channels = channelsSchema.parse({ oncall: { type: "pagerduty", routing_key: "R0UT1NG" } });
 * assert.deepEqual(Object.keys(channels), ["oncall"]);
 * ```
 */
export const channelsSchema = z.record(
  z.string().regex(CHANNEL_NAME, { error: CHANNEL_NAME_HINT }),
  channelSchema,
).describe("Where notifications go, by name; sites name them in alert.channels");

/** What every channel has. */
interface ChannelBase {
  /** Its key in the `channels` map. */
  readonly name: string;
  /** How long delivering one notification may take. */
  readonly timeoutMs: number;
}

/** A webhook, resolved. */
export interface WebhookChannelConfig extends ChannelBase {
  readonly type: "webhook";
  readonly url: string;
  readonly secret: string;
}

/** A Slack incoming webhook, resolved. */
export interface SlackChannelConfig extends ChannelBase {
  readonly type: "slack";
  readonly url: string;
}

/** A PagerDuty Events API v2 integration, resolved. */
export interface PagerDutyChannelConfig extends ChannelBase {
  readonly type: "pagerduty";
  readonly routingKey: string;
  readonly url: string;
}

/** An SMTP server and the addresses to use, resolved. */
export interface EmailChannelConfig extends ChannelBase {
  readonly type: "email";
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte; otherwise STARTTLS, required. */
  readonly secure: boolean;
  /** `null`: no authentication. */
  readonly auth: { readonly user: string; readonly password: string } | null;
  readonly from: string;
  readonly to: readonly string[];
  /** CA certificate(s), PEM, to verify the server with; `null`: the system's. */
  readonly caCert: string | null;
}

/** A channel, resolved: what `createChannel()` makes a sender of. */
export type ChannelConfig =
  | WebhookChannelConfig
  | SlackChannelConfig
  | PagerDutyChannelConfig
  | EmailChannelConfig;

/**
 * A channel as used: defaults applied, its CA file read. Reports a user without a password (or the
 * reverse).
 *
 * @param name Its key in the `channels` map.
 * @param entry As written, `${VAR}` references resolved.
 * @param context `at`: the entry's key path; `readCaFile`: reads a `ca_file` (relative to the sites
 * file), reporting when it cannot, and returns its text or `null`; `report`: told about problems.
 * @returns The channel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveChannel } from "./config.ts";
 * const channel = resolveChannel("mail", {
 *   type: "email", host: "smtp.example.com", secure: true, from: "monitor@example.com", to: "ops@example.com",
 * }, { at: ["channels", "mail"], readCaFile: () => null, report: () => {} });
 * assert.equal(channel.type === "email" && channel.port, 465);
 * ```
 */
export function resolveChannel(
  name: string,
  entry: ChannelEntry,
  context: {
    readonly at: KeyPath;
    readonly readCaFile: (path: string, at: KeyPath) => string | null;
    readonly report: Report;
  },
): ChannelConfig {
  const timeoutMs = entry.timeout === undefined
    ? CHANNEL_DEFAULTS.timeoutMs
    : parseDurationMs(entry.timeout) ?? CHANNEL_DEFAULTS.timeoutMs;
  switch (entry.type) {
    case "webhook":
      return { type: "webhook", name, timeoutMs, url: entry.url, secret: entry.secret };
    case "slack":
      return { type: "slack", name, timeoutMs, url: entry.url };
    case "pagerduty":
      return {
        type: "pagerduty",
        name,
        timeoutMs,
        routingKey: entry.routing_key,
        url: entry.url ?? PAGERDUTY_EVENTS_URL,
      };
    case "email": {
      if ((entry.user === undefined) !== (entry.password === undefined)) {
        const missing = entry.user === undefined ? "user" : "password";
        context.report(
          [...context.at, entry.user === undefined ? "password" : "user"],
          `needs ${missing} too: SMTP authentication takes both`,
        );
      }
      const secure = entry.secure ?? false;
      return {
        type: "email",
        name,
        timeoutMs,
        host: entry.host,
        port: entry.port ?? (secure ? 465 : 587),
        secure,
        auth: entry.user !== undefined && entry.password !== undefined
          ? { user: entry.user, password: entry.password }
          : null,
        from: entry.from,
        to: typeof entry.to === "string" ? [entry.to] : entry.to,
        caCert: entry.ca_file === undefined
          ? null
          : context.readCaFile(entry.ca_file, [...context.at, "ca_file"]),
      };
    }
  }
}

/**
 * Parses the `channels` map of a sites file as config hands it over (as written), reporting each
 * problem at its key path; a channel's values are never shown in a message (they may be secrets),
 * but its type.
 *
 * @param written The map as written, `${NAME}` references unresolved; `undefined` when there is
 *   none.
 * @param context `env`: the alerter's environment for references; `null` where channels are
 *   checked without their secrets (a checker, `sites apply`): a value that holds a reference is
 *   then checked for its type only, since it may stand for all of a URL or a secret.
 *   `readCaFile`: reads an e-mail channel's `ca_file`. `report`: told about each problem.
 * @returns The channels without a problem of their own, resolved, in the file's order; the names
 *   of all (`undefined` when the map is no map).
 */
export function readChannels(
  written: unknown,
  context: {
    readonly env: Readonly<Record<string, string | undefined>> | null;
    readonly readCaFile: (path: string, at: KeyPath) => string | null;
    readonly report: Report;
  },
): {
  readonly channels: Map<string, ChannelConfig>;
  readonly names: ReadonlySet<string> | undefined;
} {
  const root = { channels: written };
  const referenced = context.env === null ? referencedPaths(root) : new Set<string>();
  const report: Report = (path, message) =>
    context.report(
      path,
      referenced.has(formatKeyPath(path))
        ? `${message} (a \${NAME} reference stands for text: write this value out)`
        : message,
    );
  const unset = new Set<string>();
  const { channels: data } = interpolateEnv(
    root,
    context.env ?? EVERY_NAME_A_WORD,
    (path, message) => {
      unset.add(formatKeyPath(path));
      report(path, message);
    },
  ) as { channels: unknown };
  const parsed = channelsSchema.optional().safeParse(data);
  // (Checked as a word, a value that holds a reference is checked for its type only.)
  const issues = (parsed.success ? [] : parsed.error.issues)
    .flatMap((issue) => typedIssues({ ...issue, path: ["channels", ...issue.path] }))
    .filter((issue) =>
      !(referenced.has(formatKeyPath(issue.path)) && isValue(issue.path) &&
        issue.code !== "invalid_type")
    );
  reportIssues(issues, { report, written: root, unset }, isValue);
  if (data === undefined) return { channels: new Map(), names: new Set() };
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return { channels: new Map(), names: undefined };
  }
  const withProblems = new Set(issues.map((issue) => issue.path[1]));
  const channels = Object.entries(data).filter(([name]) => !withProblems.has(name))
    .map(([name, entry]) => {
      const channel = resolveChannel(name, entry as ChannelEntry, {
        ...context,
        at: ["channels", name],
        report,
      });
      return [name, channel] as const;
    });
  // A channel with a problem is still a channel: naming it is no problem.
  return { channels: new Map(channels), names: new Set(Object.keys(data)) };
}

/** Whether `path` is a value inside a channel, but its `type`. */
function isValue(path: KeyPath): boolean {
  return path.length >= 3 && path[2] !== "type";
}
