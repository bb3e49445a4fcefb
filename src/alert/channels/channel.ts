/**
 * What every channel shares. A channel fails in its own fixed words, never with a receiver's
 * answer or a library's message: those may repeat a secret in any spelling.
 *
 * @module
 */
import { STATUS_CODES } from "node:http";
import { VERSION } from "../../version.ts";
import { formatElapsed, type Notification } from "../notification.ts";
import type { ChannelType } from "./config.ts";

/** Aborting `signal` abandons a delivery: `send` rejects with the signal's reason. */
interface SendOptions {
  readonly signal?: AbortSignal;
}

/** A place notifications go. */
export interface Channel {
  /** Its key in the `channels` map. */
  readonly name: string;
  readonly type: ChannelType;
  /** Delivers one notification; throws a {@link ChannelError} when it was not accepted in time. */
  send(notification: Notification, options?: SendOptions): Promise<void>;
}

/**
 * A notification was not delivered. `retryable` tells a passing fault (no connection, a timeout, a
 * 5xx, 408 or 429 answer) from one that will happen again (another 4xx: a wrong configuration).
 */
export class ChannelError extends Error {
  override name = "ChannelError";
  readonly retryable: boolean;

  constructor(
    channel: { readonly name: string; readonly type: ChannelType },
    detail: string,
    options: { readonly retryable: boolean },
  ) {
    super(`Channel "${channel.name}" (${channel.type}) ${detail}`);
    this.retryable = options.retryable;
  }
}

/** What kept fetch or nodemailer from carrying a notification, in fixed words. */
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

const USER_AGENT =
  `website-monitor/${VERSION} (+https://github.com/website-monitor/monitor; alerts)`;

/**
 * A channel that POSTs each notification as JSON, accepted by a 2xx answer. A redirect is not
 * followed: it would carry the body, and its signature, elsewhere.
 *
 * @param request The body and extra headers of a notification, made again for every attempt.
 */
export function jsonChannel(
  config: { name: string; type: ChannelType; url: string; timeoutMs: number },
  request: (notification: Notification) => { body: string; headers?: Record<string, string> },
): Channel {
  async function send(notification: Notification, options: SendOptions = {}): Promise<void> {
    const { body, headers } = request(notification);
    const deadline = AbortSignal.timeout(config.timeoutMs);
    let response: Response;
    try {
      response = await fetch(config.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": USER_AGENT, ...headers },
        body,
        redirect: "manual",
        signal: options.signal === undefined
          ? deadline
          : AbortSignal.any([options.signal, deadline]),
      });
      // Unread, but released: the connection is not kept waiting for it.
      await response.body?.cancel();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const detail = deadline.aborted
        ? `did not answer within ${formatElapsed(config.timeoutMs)}`
        : `could not be reached: ${connectionFault(error)}`;
      throw new ChannelError(config, detail, { retryable: true });
    }
    if (response.ok) return;
    // The standard reason phrase, not the receiver's own text.
    const reason = STATUS_CODES[response.status];
    const status = `HTTP ${response.status}${reason === undefined ? "" : ` (${reason})`}`;
    const detail = response.status >= 300 && response.status < 400
      ? `was answered with ${status}, a redirect: configure the URL it redirects to`
      : `refused the notification: ${status}`;
    const retryable = [408, 429].includes(response.status) || response.status >= 500;
    throw new ChannelError(config, detail, { retryable });
  }
  return { name: config.name, type: config.type, send };
}
