/**
 * The generic webhook: the notification as JSON (`schema/alert_webhook.v1.json`), POSTed with
 *
 * - `X-Monitor-Timestamp: <unix seconds>`: when this attempt was sent.
 * - `X-Monitor-Signature: sha256=<hex>`: HMAC-SHA256 of the timestamp, a `.` and the raw body,
 *   keyed with the channel's secret. A receiver computes it over the bytes received (before
 *   parsing), compares in constant time, and refuses a timestamp more than 5 minutes old: a
 *   captured request cannot be replayed later, nor with a new timestamp.
 * - `Idempotency-Key: <incidentId>/<opened|resolved>`: a copy of the body's `idempotencyKey`, the
 *   same for every attempt of the same transition. The body's, which the signature covers, is the
 *   one to drop repeats by.
 *
 * Any 2xx answer is an acceptance.
 *
 * @module
 */
import { type Notification, webhookBody } from "../notification.ts";
import type { Channel } from "./channel.ts";
import type { WebhookChannelConfig } from "./config.ts";
import { jsonChannel } from "./http.ts";

/**
 * The header that carries the signature: `sha256=` and the HMAC-SHA256 of the
 * {@link TIMESTAMP_HEADER} value, a `.` and the raw body, keyed with the channel's secret, in
 * lowercase hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Buffer } from "node:buffer";
 * import { createHmac, timingSafeEqual } from "node:crypto";
 * import { SIGNATURE_HEADER, signDelivery, TIMESTAMP_HEADER } from "./webhook.ts";
 * const secret = "0123456789abcdef0123456789abcdef";
 * const [body, timestamp] = ['{"version":1}', String(Math.floor(Date.now() / 1000))];
 * const request = new Request("http://receiver.test/", {
 *   method: "POST", body, headers: {
 *     [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: await signDelivery(secret, { timestamp, body }),
 *   },
 * });
 * // What the receiver does:
 * const [rawBody, sent] = [await request.text(), request.headers.get("x-monitor-timestamp") ?? ""];
 * assert.ok(Math.abs(Date.now() / 1000 - Number(sent)) <= 300);
 * const expected = Buffer.from("sha256=" + createHmac("sha256", secret).update(`${sent}.${rawBody}`).digest("hex"));
 * const given = Buffer.from(request.headers.get("x-monitor-signature") ?? "");
 * assert.ok(given.length === expected.length && timingSafeEqual(given, expected));
 * ```
 */
export const SIGNATURE_HEADER = "X-Monitor-Signature";

/** The header that carries when the delivery was sent, in Unix seconds; the signature covers it. */
export const TIMESTAMP_HEADER = "X-Monitor-Timestamp";

/** The header that carries a copy of the body's idempotency key (not signed). */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";

/**
 * The signature of one delivery.
 *
 * @param secret The channel's shared secret.
 * @param signed When it is sent (the {@link TIMESTAMP_HEADER} value) and the exact body.
 * @returns `sha256=` and the HMAC-SHA256 of `<timestamp>.<body>`, in lowercase hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHmac } from "node:crypto";
 * import { signDelivery } from "./webhook.ts";
 * const secret = "a secret of 16+ chars";
 * const expected = "sha256=" + createHmac("sha256", secret).update("1767225600.{}").digest("hex");
 * assert.equal(await signDelivery(secret, { timestamp: "1767225600", body: "{}" }), expected);
 * ```
 */
export async function signDelivery(
  secret: string,
  signed: { readonly timestamp: string; readonly body: string },
): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const text = `${signed.timestamp}.${signed.body}`;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
  return `sha256=${Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * A webhook channel.
 *
 * @param config The channel.
 * @returns The channel.
 *
 * @example
 * ```ts ignore
 * import { webhookChannel } from "./webhook.ts";
 * const channel = webhookChannel({
 *   type: "webhook", name: "ops", url: "https://hooks.example.com/monitor",
 *   secret: Deno.env.get("HOOK_SECRET")!, timeoutMs: 10_000,
 * });
 * await channel.send(notification, { signal: AbortSignal.timeout(30_000) });
 * ```
 */
export function webhookChannel(config: WebhookChannelConfig): Channel {
  return jsonChannel(config, async (notification: Notification) => {
    const body = webhookBody(notification);
    // Every attempt is signed anew: a retry hours later is not refused as a replay.
    const timestamp = String(Math.floor(Date.now() / 1000));
    return {
      body,
      headers: {
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: await signDelivery(config.secret, { timestamp, body }),
        [IDEMPOTENCY_HEADER]: notification.idempotencyKey,
      },
    };
  });
}
