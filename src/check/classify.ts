/**
 * Turns what a request throws into a documented error kind and a message without secrets.
 *
 * @module
 */
import { printable } from "../text.ts";
import type { CheckError, ErrorKind } from "./result.ts";

// Each kind by the error's code, then (for errors without one) by its message.
const RULES: readonly (readonly [ErrorKind, RegExp, RegExp])[] = [
  ["denied", /^ERR_DENIED_ADDRESS$/, /$^/],
  ["dns", /^(ENOTFOUND|EAI_\w+)$/, /dns error|failed to lookup address/i],
  ["refused", /^ECONNREFUSED$/, /connection refused/i],
  [
    "tls",
    /^(CERT_\w+|UNABLE_TO_\w+|SELF_SIGNED\w*|DEPTH_ZERO\w*|ERR_TLS\w*|ERR_SSL\w*|EPROTO)$/,
    /certificate|tls|ssl|handshake/i,
  ],
  ["reset", /^(ECONNRESET|EPIPE)$/, /connection reset|broken pipe|closed before|socket hang up/i],
  [
    "invalid_response",
    /^(HPE_\w+|Z_\w+|ERR_+ERROR_\w+|ERR_HTTP\w*|ERR_INVALID_HTTP\w*)$/,
    // (Deno's brotli errors carry a number as `code` and the name as the message.)
    /invalid http|parse error|incorrect header check|^ERR_+ERROR_\w+/i,
  ],
];

/** Classifies an error thrown while fetching or reading a response; `timeout` is the check's. */
export function classifyFetchError(error: unknown, timeout: AbortSignal): CheckError {
  if (timeout.aborted) {
    return { kind: "timeout", message: "No complete response within the timeout" };
  }
  const { code, message } = describe(error);
  const rule = code === undefined
    ? RULES.find(([, , pattern]) => pattern.test(message))
    : RULES.find(([, pattern]) => pattern.test(code));
  return { kind: rule?.[0] ?? "connection", message };
}

/** The innermost error's code and message, one printable line, no URL (it may hold a token). */
function describe(error: unknown): { code: string | undefined; message: string } {
  let innermost: unknown = error;
  for (let depth = 0; innermost instanceof Error && innermost.cause !== undefined && depth < 5;) {
    innermost = innermost.cause, depth++;
  }
  const text = innermost instanceof Error ? innermost.message : String(innermost);
  const code = (innermost as { code?: unknown } | null)?.code;
  const known = typeof code === "string" ? code : undefined;
  const line = text.replace(/https?:\/\/\S+/gi, "<url>").split("\n", 1)[0]!.slice(0, 500);
  const message = printable(
    known === undefined || line.includes(known) ? line : `${known}: ${line}`,
  );
  return { code: known, message };
}
