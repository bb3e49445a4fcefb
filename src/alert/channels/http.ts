/**
 * What the webhook, Slack and PagerDuty channels share: each notification is one JSON POST,
 * bounded in time, whose answer counts by its status alone. The answer's body is never read into
 * an error: a receiver may echo the URL (a secret for Slack) or a key in any spelling. A redirect
 * is not followed (it would carry the body, and its signature, elsewhere): it is an error that asks
 * for the final URL.
 *
 * @module
 */
import { STATUS_CODES } from "node:http";
import { VERSION } from "../../version.ts";
import { formatElapsed } from "../elapsed.ts";
import type { Notification } from "../notification.ts";
import { type Channel, ChannelError, connectionFault, type SendOptions } from "./channel.ts";
import type { ChannelType } from "./config.ts";

/** The User-Agent of every notification. */
export const NOTIFIER_USER_AGENT =
  `website-monitor/${VERSION} (+https://github.com/website-monitor/monitor; alerts)`;

/** A channel that POSTs JSON. */
export interface JsonChannelConfig {
  readonly name: string;
  readonly type: ChannelType;
  readonly url: string;
  readonly timeoutMs: number;
}

/** What one notification is sent as. */
export interface JsonRequest {
  /** JSON text, sent as it is. */
  readonly body: string;
  /** Beyond `content-type` and `user-agent`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A channel that POSTs each notification as JSON and takes a 2xx answer as its acceptance.
 *
 * @param config Its name, type, URL and timeout.
 * @param request What a notification is sent as (made again for every attempt).
 * @returns The channel; its `send` rejects with a {@link ChannelError} on another status, no
 * answer within the timeout, or no connection, and with the signal's reason when that aborts.
 *
 * @example
 * ```ts ignore
 * import { jsonChannel } from "./http.ts";
 * const channel = jsonChannel(
 *   { name: "ops", type: "webhook", url: "https://hooks.example.com/monitor", timeoutMs: 10_000 },
 *   (notification) => ({ body: JSON.stringify(notification) }),
 * );
 * await channel.send(notification);
 * ```
 */
export function jsonChannel(
  config: JsonChannelConfig,
  request: (notification: Notification) => JsonRequest | Promise<JsonRequest>,
): Channel {
  return {
    name: config.name,
    type: config.type,
    async send(notification: Notification, options: SendOptions = {}): Promise<void> {
      await postJson(config, await request(notification), options);
    },
  };
}

async function postJson(
  channel: JsonChannelConfig,
  request: JsonRequest,
  options: SendOptions,
): Promise<void> {
  const deadline = new AbortController();
  const timeout = setTimeout(() => deadline.abort(), channel.timeoutMs);
  const signal = options.signal === undefined
    ? deadline.signal
    : AbortSignal.any([options.signal, deadline.signal]);
  let response: Response;
  try {
    response = await fetch(channel.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": NOTIFIER_USER_AGENT,
        ...request.headers,
      },
      body: request.body,
      redirect: "manual",
      signal,
    });
    // Unread, but released: the connection is not kept waiting for it.
    await response.body?.cancel();
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (deadline.signal.aborted) {
      throw new ChannelError(channel, `did not answer within ${formatElapsed(channel.timeoutMs)}`, {
        retryable: true,
      });
    }
    throw new ChannelError(channel, `could not be reached: ${connectionFault(error)}`, {
      retryable: true,
    });
  } finally {
    clearTimeout(timeout);
  }
  if (response.ok) return;
  // The standard reason phrase, not the receiver's: that one is its own text.
  const reason = STATUS_CODES[response.status];
  const status = `HTTP ${response.status}${reason === undefined ? "" : ` (${reason})`}`;
  if (response.status >= 300 && response.status < 400) {
    throw new ChannelError(
      channel,
      `was answered with ${status}, a redirect: configure the URL it redirects to`,
      { retryable: false },
    );
  }
  const retryable = response.status >= 500 || response.status === 429 ||
    response.status === 408;
  throw new ChannelError(channel, `refused the notification: ${status}`, { retryable });
}
