/**
 * Notification channels: {@link createChannel} makes a {@link Channel} of a channel's
 * configuration. Each kind lives in its own file (`webhook.ts`, `slack.ts`, `pagerduty.ts`,
 * `email.ts`); what they share is in `channel.ts`.
 *
 * @module
 */
import type { Channel } from "./channel.ts";
import type { ChannelConfig } from "./config.ts";
import { emailChannel } from "./email.ts";
import { pagerDutyChannel } from "./pagerduty.ts";
import { slackChannel } from "./slack.ts";
import { webhookChannel } from "./webhook.ts";

export { type Channel, ChannelError, type SendOptions } from "./channel.ts";

/**
 * The channel a configuration describes.
 *
 * @param config A channel, resolved (see `resolveChannel` in `./config.ts`).
 * @returns The channel; nothing is connected until it sends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createChannel } from "./mod.ts";
 * const channel = createChannel({ type: "slack", name: "team", url: "https://hooks.slack.com/services/T/B/x", timeoutMs: 10_000 });
 * assert.equal(channel.type, "slack");
 * assert.equal(channel.name, "team");
 * ```
 */
export function createChannel(config: ChannelConfig): Channel {
  switch (config.type) {
    case "webhook":
      return webhookChannel(config);
    case "slack":
      return slackChannel(config);
    case "pagerduty":
      return pagerDutyChannel(config);
    case "email":
      return emailChannel(config);
  }
}
