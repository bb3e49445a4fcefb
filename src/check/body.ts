/**
 * Reading a response's body as a browser would, no more of it than a site allows. Only a body with
 * a pattern to look for is kept, as bytes in one buffer within the checker's {@link BodyBudget};
 * any other is counted and let go chunk by chunk.
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
interface BodyOptions {
  /** Most decoded bytes read; more is `body_too_large`. */
  readonly maxBytes: number;
  /** Without one, the body is not kept. */
  readonly pattern: RE2JS | null;
  readonly budget?: BodyBudget | undefined;
  readonly monotonicMs: () => number;
  readonly signal: AbortSignal;
}

/**
 * Reads a body, undoing its content encoding, and looks for the pattern in it as UTF-8. Stops once
 * the decoded bytes exceed `maxBytes` (a small gzip body can inflate to gigabytes) or the budget.
 *
 * @returns When the body ended and whether it matched (`null`: no pattern); or why it was too
 *   large.
 * @throws {Error} What broke the connection or the decoding, or the signal's reason.
 */
export async function readBody(
  exchange: Exchange,
  options: BodyOptions,
): Promise<{ endMs: number; patternMatched: boolean | null } | CheckError> {
  const { response } = exchange;
  const { maxBytes, pattern, budget, signal } = options;
  signal.throwIfAborted();
  const decoded = decode(response);
  // The body so far when it has a pattern to match: its first chunk as it came, then one buffer
  // growing with it, made only for a second chunk (reserving a resizable buffer costs ~20 µs).
  let kept: Uint8Array | undefined;
  let bytes = 0;
  // Given up for a smaller body, or refused room.
  let noRoom = false;
  using claim = pattern === null ? undefined : budget?.claim(() => {
    noRoom = true;
    decoded.destroy();
  });
  const tooLittleRoom = (): CheckError => ({
    kind: "body_too_large",
    message:
      `Body is larger than the ${bytes} bytes this checker could keep for it: CHECK_BODY_MEMORY_BYTES (${budget?.totalBytes}) is shared by the checks in progress`,
  });
  const onAbort = () => decoded.destroy(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  // A connection that closes before the body ends; its own error (a malformed chunk) says why.
  let closed: Error | undefined;
  response.once("aborted", () => {
    closed = exchange.failure() ??
      Object.assign(new Error("Connection closed before the body ended"), { code: "ECONNRESET" });
    decoded.destroy(closed);
  });
  try {
    for await (const chunk of decoded as AsyncIterable<Uint8Array>) {
      if (bytes + chunk.byteLength > maxBytes) {
        return { kind: "body_too_large", message: `Body is larger than ${maxBytes} bytes` };
      }
      if (pattern !== null) {
        if (claim?.take(chunk.byteLength) === false) return tooLittleRoom();
        kept = kept === undefined ? chunk : appended(kept, chunk, maxBytes);
      }
      bytes += chunk.byteLength;
    }
    const endMs = options.monotonicMs();
    if (noRoom) return tooLittleRoom();
    const body = kept ?? new Uint8Array();
    return { endMs, patternMatched: pattern === null ? null : pattern.test(withoutBom(body)) };
  } catch (error) {
    if (noRoom) return tooLittleRoom();
    throw signal.aborted ? error : closed ?? error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    decoded.destroy();
    if (kept !== undefined && growing(kept)) kept.buffer.resize(0);
  }
}

/** `kept` and `chunk` in one buffer that grows up to `maxBytes`, `kept`'s own once it is one. */
function appended(kept: Uint8Array, chunk: Uint8Array, maxBytes: number): Uint8Array {
  const joined = growing(kept)
    ? kept
    : new Uint8Array(new ArrayBuffer(kept.byteLength, { maxByteLength: maxBytes }));
  if (joined !== kept) joined.set(kept);
  joined.buffer.resize(joined.byteLength + chunk.byteLength);
  joined.set(chunk, joined.byteLength - chunk.byteLength);
  return joined;
}

/** Whether `bytes` is the buffer {@link appended} grows (a chunk of the stream is not). */
function growing(bytes: Uint8Array): bytes is Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer && bytes.buffer.resizable;
}

/** Without a leading byte order mark, which browsers skip. */
function withoutBom(bytes: Uint8Array): Uint8Array {
  const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return hasBom ? bytes.subarray(3) : bytes;
}

/** The body without its content encoding (gzip, deflate or br). */
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
