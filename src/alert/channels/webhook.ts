/**
 * The generic webhook: the notification as JSON (`schema/alert_webhook.v1.json`), POSTed with
 *
 * - `X-Monitor-Timestamp: <unix seconds>`: when this attempt was sent.
 * - `X-Monitor-Signature: sha256=<hex>`: HMAC-SHA256 of the timestamp, a `.` and the raw body,
 *   keyed with the channel's secret. A receiver refuses a timestamp more than 5 minutes old, so a
 *   captured request cannot be replayed later, nor with a new timestamp.
 * - `Idempotency-Key`: a copy of the body's `idempotencyKey` (the signed one to drop repeats by).
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
