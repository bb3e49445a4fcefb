/**
 * Reading a response's body as a browser would (its content encoding undone) and no more of it
 * than a site allows, to look for the site's pattern in it. Only a body with a pattern to look for
 * is kept, as bytes in one buffer (no strings, no copies), within the checker's
 * {@link BodyBudget}; any other is counted and let go chunk by chunk.
 *
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { RE2JS } from "re2js";
import type { BodyBudget } from "./body_budget.ts";
import type { Exchange } from "./http_exchange.ts";
import type { CheckError } from "./result.ts";

/** What {@link readBody} needs. */
export interface BodyOptions {
  /** Most decoded bytes read; more is `body_too_large`. */
  readonly maxBytes: number;
  /** What the body must contain; without one, the body is not kept. */
  readonly pattern: RE2JS | null;
  /** Memory shared with the other checks for the bodies kept; without one, `maxBytes` alone. */
  readonly budget?: BodyBudget | undefined;
  /** Monotonic clock, in milliseconds, for `endMs`. */
  readonly monotonicMs: () => number;
  readonly signal: AbortSignal;
}

/** A body read to its end: when that was, and whether it matched (`null`: no pattern). */
export interface BodyRead {
  readonly endMs: number;
  readonly patternMatched: boolean | null;
}

/**
 * Reads a body, undoing its content encoding, and looks for the pattern in it as UTF-8 (invalid
 * bytes count as U+FFFD). Stops once the decoded bytes exceed `maxBytes` (a small gzip body can
 * inflate to gigabytes), or once the budget cannot hold them.
 *
 * @returns When the body ended and whether it matched; or, when it was too large to read, why.
 * @throws {Error} What broke the connection or the decoding, or the signal's reason.
 */
export function readBody(
  exchange: Exchange,
  options: BodyOptions,
): Promise<BodyRead | CheckError> {
  const { response } = exchange;
  const { maxBytes, pattern, budget, signal } = options;
  const decoded = decode(response);
  // One buffer growing with the body: the memory it takes is the bytes it holds, given back at once.
  const kept = pattern === null
    ? undefined
    : new Uint8Array(new ArrayBuffer(0, { maxByteLength: maxBytes }));
  let bytes = 0;
  return new Promise((resolve, reject) => {
    // Given up for a smaller body, or refused room: the read ends the same way.
    const claim = kept === undefined ? undefined : budget?.claim(() => noRoom());
    function noRoom() {
      resolve({
        kind: "body_too_large",
        message:
          `Body is larger than the ${bytes} bytes this checker could keep for it: CHECK_BODY_MEMORY_BYTES (${budget?.totalBytes}) is shared by the checks in progress`,
      });
      stopReading();
    }
    function letGo() {
      signal.removeEventListener("abort", onAbort);
      kept?.buffer.resize(0);
      claim?.[Symbol.dispose]();
    }
    // The first outcome wins (a promise settles once); the stream is let go after it.
    function stopReading() {
      decoded.removeAllListeners("data");
      decoded.removeAllListeners("end");
      decoded.destroy();
      letGo();
    }
    function onAbort() {
      reject(signal.reason);
      stopReading();
    }
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    decoded.on("data", (chunk: Uint8Array) => {
      if (bytes + chunk.byteLength > maxBytes) {
        resolve({ kind: "body_too_large", message: `Body is larger than ${maxBytes} bytes` });
        return stopReading();
      }
      if (kept !== undefined) {
        if (claim?.take(chunk.byteLength) === false) return noRoom();
        kept.buffer.resize(bytes + chunk.byteLength);
        kept.set(chunk, bytes);
      }
      bytes += chunk.byteLength;
    });
    decoded.once("end", () => {
      const endMs = options.monotonicMs();
      resolve({
        endMs,
        patternMatched: kept === undefined ? null : pattern!.test(withoutBom(kept)),
      });
      letGo();
    });
    decoded.once("error", (error) => {
      reject(error);
      stopReading();
    });
    // A connection that closes before the body ends, without an error of its own.
    response.once("aborted", () => {
      // The connection's own error says why (a malformed chunk), when it has one.
      reject(
        exchange.failure() ??
          Object.assign(new Error("Connection closed before the body ended"), {
            code: "ECONNRESET",
          }),
      );
      stopReading();
    });
  });
}

/** The bytes without a leading byte order mark, which browsers (and `TextDecoder`) skip. */
function withoutBom(bytes: Uint8Array): Uint8Array {
  const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return hasBom ? bytes.subarray(3) : bytes;
}

/** The body without its content encoding (gzip, deflate or br), as browsers read it. */
function decode(response: IncomingMessage): Readable {
  const encoding = response.headers["content-encoding"]?.trim().toLowerCase();
  const decoder = encoding === "gzip" || encoding === "x-gzip"
    ? createGunzip()
    : encoding === "deflate"
    ? createInflate()
    : encoding === "br"
    ? createBrotliDecompress()
    : undefined;
  if (decoder === undefined) return response;
  response.once("error", (error) => decoder.destroy(error));
  return response.pipe(decoder);
}
