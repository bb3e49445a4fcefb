/**
 * Slack incoming webhooks: a message with a `text` (what notifications and old clients show) and
 * Block Kit `blocks` (a section with the summary, a context line with the details). Slack answers
 * `200 ok`; anything else (`400 invalid_payload`, `403 action_prohibited`, `404 no_service`,
 * `410 channel_is_archived`) is an error, told by its status. Slack has no idempotency key: a repeated delivery shows
 * twice.
 *
 * @module
 */
import { printable } from "../../text.ts";
import type { Notification } from "../notification.ts";
import type { Channel } from "./channel.ts";
import type { SlackChannelConfig } from "./config.ts";
import { jsonChannel } from "./http.ts";

/** Slack's bound on a section's text is 3000 characters; a message is cut well before. */
const MAX_SECTION_CHARS = 2_000;

const EMOJI = {
  opened: { down: ":red_circle:", degraded: ":large_orange_circle:", stale: ":grey_question:" },
  resolved: ":large_green_circle:",
} as const;

/** Text for Slack's `mrkdwn`: `&`, `<` and `>` are its control characters. */
function escape(text: string): string {
  return printable(text).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * The body of a Slack incoming-webhook message for a notification.
 *
 * @param notification The notification.
 * @returns `{ text, blocks }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { slackMessage } from "./slack.ts";
 * const message = slackMessage({
 *   version: 1, idempotencyKey: "a/down/c1/opened", transition: "opened", incidentId: "a/down/c1",
 *   siteId: "a", siteName: "A & B", url: "https://a.test/", kind: "down", severity: "critical",
 *   summary: "A & B is down: timeout: No answer", regions: ["eu"], openedAt: "2026-01-01T00:00:00.000Z",
 *   cause: { errorKind: "timeout", statusCode: null, responseTimeMs: null, message: "No answer" },
 *   openedByCheckId: "c1", resolvedAt: null, resolvedByCheckId: null,
 * });
 * assert.equal(message.text, ":red_circle: A &amp; B is down: timeout: No answer");
 * assert.equal(message.blocks[0]?.type, "section");
 * ```
 */
export function slackMessage(notification: Notification): {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
} {
  const emoji = notification.transition === "opened"
    ? EMOJI.opened[notification.kind]
    : EMOJI.resolved;
  const text = `${emoji} ${escape(notification.summary)}`;
  const site = `<${escape(notification.url)}|${escape(notification.siteName)}>`;
  const details = [
    `*${notification.kind}* (${notification.severity})`,
    notification.regions.length === 0
      ? null
      : `regions: ${escape(notification.regions.join(", "))}`,
    notification.cause.statusCode === null ? null : `HTTP ${notification.cause.statusCode}`,
    `opened ${notification.openedAt}`,
    notification.resolvedAt === null ? null : `resolved ${notification.resolvedAt}`,
    `incident \`${escape(notification.incidentId)}\``,
  ].filter((detail) => detail !== null);
  return {
    text,
    blocks: [
      {
        type: "section",
        text: { type: "mrkdwn", text: `${site}: ${text}`.slice(0, MAX_SECTION_CHARS) },
      },
      { type: "context", elements: [{ type: "mrkdwn", text: details.join(" · ") }] },
    ],
  };
}

/** The two Block Kit blocks a message uses. */
export type SlackBlock =
  | { readonly type: "section"; readonly text: SlackText }
  | { readonly type: "context"; readonly elements: readonly SlackText[] };

/** A Block Kit text object. */
export interface SlackText {
  readonly type: "mrkdwn";
  readonly text: string;
}

/**
 * A Slack channel.
 *
 * @param config The channel (its URL is a secret: it never appears in an error).
 * @returns The channel.
 *
 * @example
 * ```ts ignore
 * import { slackChannel } from "./slack.ts";
 * const channel = slackChannel({ type: "slack", name: "team", url: Deno.env.get("SLACK_WEBHOOK_URL")!, timeoutMs: 10_000 });
 * await channel.send(notification);
 * ```
 */
export function slackChannel(config: SlackChannelConfig): Channel {
  return jsonChannel(config, (notification) => ({
    body: JSON.stringify(slackMessage(notification)),
  }));
}
