/**
 * The generic webhook: the notification as JSON (`schema/alert_webhook.v1.json`), POSTed with
 *
 * - `X-Monitor-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body, keyed with the channel's
 *   secret. Compute it over the bytes received (before parsing) and compare in constant time.
 * - `Idempotency-Key: <incidentId>/<opened|resolved>`: the same for every delivery of the same
 *   transition (also in the body, where the signature covers it): drop a key seen before.
 *
 * Any 2xx answer is an acceptance.
 *
 * @module
 */
import { type Notification, webhookBody } from "../notification.ts";
import type { Channel, SendOptions } from "./channel.ts";
import type { WebhookChannelConfig } from "./config.ts";
import { type Fetch, postJson } from "./http.ts";

/**
 * The header that carries the signature: `sha256=` and the HMAC-SHA256 of the raw body, keyed with
 * the channel's secret, in lowercase hex. A receiver computes it over the bytes it received,
 * before parsing them, and compares in constant time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Buffer } from "node:buffer";
 * import { createHmac, timingSafeEqual } from "node:crypto";
 * import { SIGNATURE_HEADER, signBody } from "./webhook.ts";
 * const secret = "0123456789abcdef0123456789abcdef";
 * const sent = '{"version":1}';
 * const request = new Request("http://receiver.test/", {
 *   method: "POST", body: sent, headers: { [SIGNATURE_HEADER]: await signBody(secret, sent) },
 * });
 * // What the receiver does:
 * const rawBody = await request.text();
 * const expected = Buffer.from("sha256=" + createHmac("sha256", secret).update(rawBody).digest("hex"));
 * const given = Buffer.from(request.headers.get("x-monitor-signature") ?? "");
 * assert.ok(given.length === expected.length && timingSafeEqual(given, expected));
 * ```
 */
export const SIGNATURE_HEADER = "X-Monitor-Signature";

/**
 * The header that carries the notification's idempotency key: a receiver drops a key it has seen.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IDEMPOTENCY_HEADER } from "./webhook.ts";
 * const seen = new Set<string>();
 * const isNew = (headers: Headers) => {
 *   const key = headers.get(IDEMPOTENCY_HEADER) ?? "";
 *   return !seen.has(key) && seen.add(key) !== undefined;
 * };
 * const headers = new Headers({ [IDEMPOTENCY_HEADER]: "shop/down/c1/opened" });
 * assert.deepEqual([isNew(headers), isNew(headers)], [true, false]);
 * ```
 */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";

/**
 * The signature of a body.
 *
 * @param secret The channel's shared secret.
 * @param body The exact body sent.
 * @returns `sha256=` and the HMAC-SHA256 of the body in lowercase hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHmac } from "node:crypto";
 * import { signBody } from "./webhook.ts";
 * const expected = "sha256=" + createHmac("sha256", "a secret of 16+ chars").update("{}").digest("hex");
 * assert.equal(await signBody("a secret of 16+ chars", "{}"), expected);
 * ```
 */
export async function signBody(secret: string, body: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return `sha256=${Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * A webhook channel.
 *
 * @param config The channel.
 * @param options `fetch` to send with.
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
export function webhookChannel(
  config: WebhookChannelConfig,
  options: { readonly fetch?: Fetch } = {},
): Channel {
  return {
    name: config.name,
    type: "webhook",
    async send(notification: Notification, sendOptions: SendOptions = {}): Promise<void> {
      const body = webhookBody(notification);
      await postJson({
        channel: config,
        url: config.url,
        body,
        headers: {
          [SIGNATURE_HEADER]: await signBody(config.secret, body),
          [IDEMPOTENCY_HEADER]: notification.idempotencyKey,
        },
        secrets: [config.secret],
      }, { ...sendOptions, ...options });
    },
  };
}
