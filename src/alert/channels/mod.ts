/**
 * Notification channels, one kind to a file.
 *
 * @module
 */
import type { Channel } from "./channel.ts";
import type { ChannelConfig } from "./config.ts";
import { emailChannel } from "./email.ts";
import { pagerDutyChannel } from "./pagerduty.ts";
import { slackChannel } from "./slack.ts";
import { webhookChannel } from "./webhook.ts";

/** The channel a resolved configuration describes; nothing is connected until it sends. */
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
