/**
 * What every channel is: something that delivers a notification, or says clearly why it could
 * not, without ever repeating a secret (a URL's token, a routing key, a password) in the message.
 *
 * @module
 */
import type { Notification } from "../notification.ts";
import type { ChannelType } from "./config.ts";

/** Options of one delivery. */
export interface SendOptions {
  /** Aborting it abandons the delivery: `send` rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * A place notifications go.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Channel } from "./channel.ts";
 * const sent: string[] = [];
 * const memory: Channel = { name: "memory", type: "webhook", send: async (n) => void sent.push(n.idempotencyKey) };
 * assert.equal(memory.name, "memory");
 * ```
 */
export interface Channel {
  /** Its key in the `channels` map. */
  readonly name: string;
  readonly type: ChannelType;
  /**
   * Delivers one notification.
   *
   * @returns When the receiver accepted it.
   * @throws {ChannelError} When it did not, or did not answer in time.
   */
  send(notification: Notification, options?: SendOptions): Promise<void>;
}

/**
 * A notification was not delivered. `retryable` tells a passing fault (no connection, a timeout, a
 * 5xx or 429 answer) from one that will happen again (a 4xx answer: the configuration is wrong).
 * The message names the channel and never contains its URL or secrets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChannelError } from "./channel.ts";
 * const error = new ChannelError({ name: "oncall", type: "pagerduty" }, "refused the notification: HTTP 400", { retryable: false });
 * assert.equal(error.message, 'Channel "oncall" (pagerduty) refused the notification: HTTP 400');
 * ```
 */
export class ChannelError extends Error {
  override name = "ChannelError";
  /** The channel's name. */
  readonly channel: string;
  /** Whether sending again later may succeed. */
  readonly retryable: boolean;

  /**
   * @param channel Which channel.
   * @param detail What happened, after the channel's name.
   * @param options Whether trying again may help.
   */
  constructor(
    channel: { readonly name: string; readonly type: ChannelType },
    detail: string,
    options: { readonly retryable: boolean },
  ) {
    super(`Channel "${channel.name}" (${channel.type}) ${detail}`);
    this.channel = channel.name;
    this.retryable = options.retryable;
  }
}

/** Shorter secrets are not searched for: "/" or "a" would mangle every message. */
const MIN_REDACTED_LENGTH = 4;

/**
 * Text with every occurrence of the secrets replaced by `[redacted]`. A URL given as a secret also
 * hides its path and query, where tokens live, however the text spells the URL.
 *
 * @param text A message from a library or a receiver.
 * @param secrets Secrets and secret URLs.
 * @returns The text, safe to log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redact } from "./channel.ts";
 * const url = "https://hooks.slack.com/services/T0/B0/s3cret";
 * assert.equal(redact(`error sending request for url (${url})`, [url]), "error sending request for url ([redacted])");
 * ```
 */
export function redact(text: string, secrets: readonly string[]): string {
  const hidden = secrets.flatMap((secret) => {
    const url = URL.canParse(secret) ? new URL(secret) : null;
    return url === null ? [secret] : [secret, url.href, `${url.pathname}${url.search}`, url.search];
  }).filter((secret) => secret.length >= MIN_REDACTED_LENGTH)
    // Longest first: a URL goes whole before its path is looked for.
    .sort((a, b) => b.length - a.length);
  return hidden.reduce((result, secret) => result.replaceAll(secret, "[redacted]"), text);
}
