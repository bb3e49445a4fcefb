/**
 * What every channel is: something that delivers a notification, or says clearly why it could
 * not, in its own words: never a receiver's answer or a library's message, which may repeat a
 * secret (a URL's token, a routing key, a password) in any spelling.
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
 * The message names the channel and is made of fixed words, a status and a server's host: never
 * its URL, its secrets or text a receiver chose.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChannelError } from "./channel.ts";
 * const error = new ChannelError({ name: "oncall", type: "pagerduty" }, "refused the notification: HTTP 400 (Bad Request)", { retryable: false });
 * assert.equal(error.message, 'Channel "oncall" (pagerduty) refused the notification: HTTP 400 (Bad Request)');
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

/**
 * What kept a connection from carrying a notification, in fixed words: a library's message may
 * quote the URL (whose path is a secret for Slack) or the server's own text, so it is read, never
 * repeated.
 *
 * @param error What fetch or nodemailer threw.
 * @returns A short description, for after a colon.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectionFault } from "./channel.ts";
 * const cause = new Error("error sending request for url (https://hooks.slack.com/services/T/B/s3cret): client error (Connect): tcp connect error: Connection refused (os error 111)");
 * assert.equal(connectionFault(new TypeError("fetch failed", { cause })), "the connection was refused");
 * ```
 */
export function connectionFault(error: unknown): string {
  const texts: string[] = [];
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    texts.push(e.message, String((e as { code?: unknown }).code ?? ""));
  }
  const text = texts.join(" ");
  return FAULTS.find(([pattern]) => pattern.test(text))?.[1] ?? "no connection";
}

/** Library messages (Deno's fetch, Node's sockets and TLS), most telling first. */
const FAULTS: readonly (readonly [RegExp, string])[] = [
  [/dns error|ENOTFOUND|EAI_AGAIN|EDNS/i, "its host name does not resolve"],
  [/refused/i, "the connection was refused"],
  [/certificate|UnknownIssuer|CERT_/i, "its TLS certificate is not trusted"],
  [/\btls\b|ssl|handshake/i, "TLS failed"],
  [/closed|reset|EPIPE/i, "the connection closed before an answer"],
  [/unreachable/i, "the network is unreachable"],
];
