/**
 * What every channel shares. A channel fails in its own fixed words, never with a receiver's
 * answer or a library's message: those may repeat a secret in any spelling.
 *
 * @module
 */
import { STATUS_CODES } from "node:http";
import { VERSION } from "../../version.ts";
import { formatElapsed, type Notification } from "../notification.ts";
import type { ChannelConfig } from "./config.ts";

/** A place notifications go. */
export interface Channel {
  /** Its key in the `channels` map. */
  readonly name: string;
  /** Delivers one notification or throws a {@link ChannelError}, or an aborted signal's reason. */
  send(notification: Notification, options?: { readonly signal?: AbortSignal }): Promise<void>;
}

/** A notification was not delivered. */
export class ChannelError extends Error {
  override name = "ChannelError";
  constructor(channel: Pick<ChannelConfig, "name" | "type">, detail: string) {
    super(`Channel "${channel.name}" (${channel.type}) ${detail}`);
  }
}

/**
 * A send's signal: the caller's, or the channel's deadline after `timeoutMs`. Disposing clears the
 * timer, unlike AbortSignal.timeout, whose late abort reaches the listeners fetch leaves behind
 * (denoland/deno#36588 reports a crash from it).
 */
export function sendDeadline(timeoutMs: number, signal: AbortSignal | undefined) {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  return {
    signal: signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]),
    timedOut: () => deadline.signal.aborted,
    [Symbol.dispose]: () => clearTimeout(timer),
  };
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
 * A channel that POSTs each notification as JSON (`request` makes its body and extra headers anew
 * for every attempt), accepted by a 2xx answer. A redirect is not followed: it would carry the
 * body, and its signature, elsewhere.
 */
export function jsonChannel(
  config: Extract<ChannelConfig, { url: string }>,
  request: (notification: Notification) => { body: string; headers?: Record<string, string> },
): Channel {
  return {
    name: config.name,
    async send(notification, options = {}) {
      const { body, headers } = request(notification);
      using deadline = sendDeadline(config.timeoutMs, options.signal);
      let response: Response;
      try {
        response = await fetch(config.url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": USER_AGENT, ...headers },
          body,
          redirect: "manual",
          signal: deadline.signal,
        });
        // Unread, but released: the connection is not kept waiting for it.
        await response.body?.cancel();
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        const detail = deadline.timedOut()
          ? `did not answer within ${formatElapsed(config.timeoutMs)}`
          : `could not be reached: ${connectionFault(error)}`;
        throw new ChannelError(config, detail);
      }
      if (response.ok) return;
      const reason = STATUS_CODES[response.status];
      const status = `HTTP ${response.status}${reason === undefined ? "" : ` (${reason})`}`;
      const detail = response.status >= 300 && response.status < 400
        ? `was answered with ${status}, a redirect: configure the URL it redirects to`
        : `refused the notification: ${status}`;
      throw new ChannelError(config, detail);
    },
  };
}
