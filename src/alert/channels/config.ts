/**
 * The sites file's top-level `channels` map (name → channel), as config hands it over.
 *
 * @module
 */
import { z } from "zod";
import { durationSchema, parseDurationMs } from "../../config/duration.ts";
import { EVERY_NAME_A_WORD, interpolateEnv, referencedPaths } from "../../config/interpolate.ts";
import { type Report, reportIssues, typedIssues } from "../../config/sites_problems.ts";
import { httpUrl } from "../../config/sites_schema.ts";
import { formatKeyPath, type KeyPath } from "../../config/yaml_source.ts";
import { channelName } from "../rules.ts";

const DEFAULT_TIMEOUT_MS = 10_000;

/** The PagerDuty Events API v2 endpoint (`https://events.eu.pagerduty.com/v2/enqueue` in the EU). */
export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

const CHANNEL_TYPES = ["webhook", "slack", "pagerduty", "email"] as const;

const timeout = durationSchema(100, 300_000).describe(
  "How long delivering one notification may take (default 10s)",
).optional();

const webhookSchema = z.strictObject({
  type: z.literal("webhook"),
  url: httpUrl.describe("Where the JSON body is POSTed; ${VAR} takes a value from the environment"),
  secret: z.string({ error: "must be a string" }).min(16, {
    error: "must be at least 16 characters (openssl rand -hex 32 makes a good one)",
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

const channelSchema = z.discriminatedUnion("type", [
  webhookSchema,
  slackSchema,
  pagerDutySchema,
  emailSchema,
], { error: `must have a type: one of ${CHANNEL_TYPES.join(", ")}` });

type ChannelEntry = z.infer<typeof channelSchema>;

/** The top-level `channels` map: name → channel. */
export const channelsSchema = z.record(channelName, channelSchema).describe(
  "Where notifications go, by name; sites name them in alert.channels",
);

/** A channel, resolved: what `createChannel()` makes a sender of. */
export type ChannelConfig = Readonly<ReturnType<typeof resolveChannel>>;
export type WebhookChannelConfig = Extract<ChannelConfig, { type: "webhook" }>;
export type SlackChannelConfig = Extract<ChannelConfig, { type: "slack" }>;
export type PagerDutyChannelConfig = Extract<ChannelConfig, { type: "pagerduty" }>;
export type EmailChannelConfig = Extract<ChannelConfig, { type: "email" }>;

/** A channel as used: defaults applied, CA file read, SMTP user and password checked as a pair. */
export function resolveChannel(
  name: string,
  entry: ChannelEntry,
  context: {
    readonly at: KeyPath;
    readonly readCaFile: (path: string, at: KeyPath) => string | null;
    readonly report: Report;
  },
) {
  const common = { name, timeoutMs: parseDurationMs(entry.timeout ?? "") ?? DEFAULT_TIMEOUT_MS };
  switch (entry.type) {
    case "webhook":
      return { type: entry.type, ...common, url: entry.url, secret: entry.secret };
    case "slack":
      return { type: entry.type, ...common, url: entry.url };
    case "pagerduty": {
      const url = entry.url ?? PAGERDUTY_EVENTS_URL;
      return { type: entry.type, ...common, routingKey: entry.routing_key, url };
    }
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
        type: entry.type,
        ...common,
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

const WRITE_IT_OUT = "a ${NAME} reference stands for text: write this value out";

/**
 * Parses the `channels` map as written, reporting each problem at its key path without the values
 * (they may be secrets). With `env: null` (a checker, `sites apply`) a value holding a `${NAME}`
 * reference is checked for its type only. Returns the channels without a problem of their own,
 * resolved, in the file's order, and the names of all (`undefined` when the map is no map).
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
  const isReferenced = (path: KeyPath) => referenced.has(formatKeyPath(path));
  const report: Report = (path, message) =>
    context.report(path, isReferenced(path) ? `${message} (${WRITE_IT_OUT})` : message);
  const unset = new Set<string>();
  const env = context.env ?? EVERY_NAME_A_WORD;
  const { channels: data } = interpolateEnv(root, env, (path, message) => {
    unset.add(formatKeyPath(path));
    report(path, message);
  }) as { channels: unknown };
  const parsed = channelsSchema.optional().safeParse(data);
  const issues = (parsed.success ? [] : parsed.error.issues)
    .flatMap((issue) => typedIssues({ ...issue, path: ["channels", ...issue.path] }))
    .filter((issue) =>
      !(isReferenced(issue.path) && isValue(issue.path) && issue.code !== "invalid_type")
    );
  reportIssues(issues, { report, written: root, unset }, isValue);
  if (data === undefined) return { channels: new Map(), names: new Set() };
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return { channels: new Map(), names: undefined };
  }
  const withProblems = new Set(issues.map((issue) => issue.path[1]));
  const channels = Object.entries(data).filter(([name]) => !withProblems.has(name))
    .map(([name, entry]) => {
      const at = ["channels", name];
      const channel = resolveChannel(name, entry as ChannelEntry, { ...context, at, report });
      return [name, channel] as const;
    });
  // A channel with a problem is still a channel: naming it is no problem.
  return { channels: new Map(channels), names: new Set(Object.keys(data)) };
}

/** Whether `path` is a value inside a channel, but its `type`. */
function isValue(path: KeyPath): boolean {
  return path.length >= 3 && path[2] !== "type";
}
