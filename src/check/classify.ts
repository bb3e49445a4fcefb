/**
 * Turns what `fetch` throws into a documented error kind and a message without secrets.
 *
 * Deno reports network failures as a `TypeError` whose `cause` carries the text of the underlying
 * Rust error (hyper, rustls, the resolver); the kinds are recognised from that text.
 *
 * @module
 */
import { printable } from "../text.ts";
import type { CheckError, ErrorKind } from "./result.ts";

// Deno's fetch reports hyper/rustls texts; node:http (tls_verify: false) reports errno codes.
const RULES: readonly (readonly [ErrorKind, RegExp])[] = [
  [
    "dns",
    /dns error|failed to lookup address|not known|no address associated|enotfound|eai_again/i,
  ],
  ["refused", /connection refused|econnrefused/i],
  [
    "reset",
    /connection reset|broken pipe|closed before|unexpected eof|incomplete message|econnreset|socket hang up|epipe/i,
  ],
  ["tls", /certificate|tls|ssl|handshake|corrupt message|invalidcontenttype|peer misbehaved/i],
  [
    "invalid_response",
    /invalid http|invalid header|invalid status|parse error|message head is too large|invalid chunk|hpe_/i,
  ],
];

/**
 * Classifies an error thrown while fetching or reading a response.
 *
 * @param error What was thrown.
 * @param timeout The check's timeout signal, to tell a timeout from other aborts.
 * @returns The kind and a one-line message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyFetchError } from "./classify.ts";
 * const error = new TypeError("fetch failed", { cause: new Error("tcp connect error: Connection refused (os error 111)") });
 * assert.equal(classifyFetchError(error, new AbortController().signal).kind, "refused");
 * ```
 */
export function classifyFetchError(error: unknown, timeout: AbortSignal): CheckError {
  if (timeout.aborted) {
    return { kind: "timeout", message: "No complete response within the timeout" };
  }
  const text = describe(error);
  const kind = RULES.find(([, pattern]) => pattern.test(text))?.[0] ?? "connection";
  return { kind, message: text };
}

/** The innermost useful message, without the URL (it may carry credentials or tokens). */
function describe(error: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = error; e instanceof Error && messages.length < 5; e = e.cause) {
    messages.push(e.message);
  }
  const text = messages.at(-1) ?? String(error);
  const line = text
    // "error sending request [from A] for url (U): detail" (the wording varies by Deno version)
    .replace(/^error sending request\b.*?\):\s*/i, "")
    .replace(/https?:\/\/\S+/gi, "<url>")
    .split("\n", 1)[0]!
    .slice(0, 500);
  // The text may quote the server: no control characters get into a result.
  return printable(line);
}
