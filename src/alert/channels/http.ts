/**
 * One JSON POST to a receiver, bounded in time and in what is read back: what the webhook, Slack
 * and PagerDuty channels share. A redirect is not followed (it would carry the body, and its
 * signature, elsewhere): it is an error that asks for the final URL.
 *
 * @module
 */
import { VERSION } from "../../version.ts";
import { printable } from "../../text.ts";
import { formatElapsed } from "../elapsed.ts";
import { ChannelError, redact, type SendOptions } from "./channel.ts";
import type { ChannelType } from "./config.ts";

/** Most bytes of a receiver's answer read, for the error message. */
const MAX_ANSWER_BYTES = 4_096;
/** Most characters of a receiver's answer quoted in an error message. */
const MAX_QUOTED_CHARS = 200;

/** The User-Agent of every notification. */
export const NOTIFIER_USER_AGENT =
  `website-monitor/${VERSION} (+https://github.com/website-monitor/monitor; alerts)`;

/** One POST. */
export interface JsonPost {
  readonly channel: {
    readonly name: string;
    readonly type: ChannelType;
    readonly timeoutMs: number;
  };
  readonly url: string;
  /** JSON text, sent as it is. */
  readonly body: string;
  /** Beyond `content-type` and `user-agent`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Hidden from every error message (the URL always is). */
  readonly secrets?: readonly string[];
}

/** `fetch`, or a stand-in with its signature. */
export type Fetch = typeof fetch;

/**
 * POSTs JSON and waits for a 2xx answer.
 *
 * @param post What to send where.
 * @param options `signal` to abandon it; `fetch` to send with.
 * @returns The start of the answer's body (at most 4 KiB).
 * @throws {ChannelError} On another status, no answer within the channel's timeout, or no
 * connection; the signal's reason when it aborts.
 *
 * @example
 * ```ts ignore
 * import { postJson } from "./http.ts";
 * await postJson({
 *   channel: { name: "ops", type: "webhook", timeoutMs: 10_000 },
 *   url: "https://hooks.example.com/monitor",
 *   body: JSON.stringify({ hello: "world" }),
 * });
 * ```
 */
export async function postJson(
  post: JsonPost,
  options: SendOptions & { readonly fetch?: Fetch } = {},
): Promise<string> {
  const { channel } = post;
  const secrets = [post.url, ...(post.secrets ?? [])];
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), channel.timeoutMs);
  const signal = options.signal === undefined
    ? timer.signal
    : AbortSignal.any([options.signal, timer.signal]);
  const fail = (error: unknown): never => {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timer.signal.aborted) {
      throw new ChannelError(channel, `did not answer within ${formatElapsed(channel.timeoutMs)}`, {
        retryable: true,
      });
    }
    if (error instanceof ChannelError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new ChannelError(channel, `could not be reached: ${redact(printable(detail), secrets)}`, {
      retryable: true,
    });
  };
  try {
    const response = await (options.fetch ?? fetch)(post.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": NOTIFIER_USER_AGENT,
        ...post.headers,
      },
      body: post.body,
      redirect: "manual",
      signal,
    }).catch(fail);
    const answer = await readStart(response).catch(fail);
    if (response.ok) return answer;
    const quoted = redact(printable(answer.trim()), secrets).slice(0, MAX_QUOTED_CHARS);
    const status = `HTTP ${response.status}${quoted === "" ? "" : `: ${quoted}`}`;
    if (response.status >= 300 && response.status < 400) {
      throw new ChannelError(
        channel,
        `was answered with a redirect (${status}): configure the URL it redirects to`,
        { retryable: false },
      );
    }
    const retryable = response.status >= 500 || response.status === 429 ||
      response.status === 408;
    throw new ChannelError(channel, `refused the notification: ${status}`, { retryable });
  } finally {
    clearTimeout(timeout);
  }
}

/** The first {@link MAX_ANSWER_BYTES} of a body, as text; the rest is not waited for. */
async function readStart(response: Response): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes.subarray(0, MAX_ANSWER_BYTES));
}
