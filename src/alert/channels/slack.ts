/**
 * Slack incoming webhooks: a `text` and Block Kit `blocks` (the summary, then a line of details).
 * Slack has no idempotency key: a repeated delivery shows twice.
 *
 * @module
 */
import { printable } from "../../text.ts";
import type { Notification } from "../notification.ts";
import { type Channel, jsonChannel } from "./channel.ts";
import type { SlackChannelConfig } from "./config.ts";

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

function slackMessage(notification: Notification) {
  const { kind, regions, resolvedAt } = notification;
  const emoji = notification.transition === "opened" ? EMOJI.opened[kind] : EMOJI.resolved;
  const text = `${emoji} ${escape(notification.summary)}`;
  const site = `<${escape(notification.url)}|${escape(notification.siteName)}>`;
  const details = [
    `*${kind}* (${notification.severity})`,
    regions.length === 0 ? null : `regions: ${escape(regions.join(", "))}`,
    notification.cause.statusCode === null ? null : `HTTP ${notification.cause.statusCode}`,
    `opened ${notification.openedAt}`,
    resolvedAt === null ? null : `resolved ${resolvedAt}`,
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

/** A Slack channel; its URL is a secret and never appears in an error. */
export function slackChannel(config: SlackChannelConfig): Channel {
  return jsonChannel(config, (notification) => ({
    body: JSON.stringify(slackMessage(notification)),
  }));
}
