/**
 * The generic webhook: the notification as JSON (`schema/alert_webhook.v1.json`), signed as
 * docs/alerts.md tells, with its idempotency key copied into `Idempotency-Key`.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { type Channel, jsonChannel } from "./channel.ts";
import type { WebhookChannelConfig } from "./config.ts";

/** A webhook channel. */
export function webhookChannel(config: WebhookChannelConfig): Channel {
  return jsonChannel(config, (notification) => {
    const body = JSON.stringify(notification);
    // Every attempt is signed anew: a retry hours later is not refused as a replay.
    const timestamp = String(Math.floor(Date.now() / 1000));
    const mac = createHmac("sha256", config.secret).update(`${timestamp}.${body}`).digest("hex");
    return {
      body,
      headers: {
        "X-Monitor-Timestamp": timestamp,
        "X-Monitor-Signature": `sha256=${mac}`,
        "Idempotency-Key": notification.idempotencyKey,
      },
    };
  });
}
