/**
 * Reading a response's body as a browser would: its content encoding undone, and no more of it
 * than a site allows.
 *
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { Exchange } from "./http_exchange.ts";

/**
 * Reads a body as text, undoing its content encoding, and stops once the decoded bytes exceed
 * `maxBytes` (a small gzip body can inflate to gigabytes).
 *
 * @returns The text (invalid UTF-8 replaced by U+FFFD), or `undefined` when it was too large.
 * @throws {Error} What broke the connection or the decoding, or the signal's reason.
 */
export function readBody(
  exchange: Exchange,
  maxBytes: number,
  signal: AbortSignal,
): Promise<string | undefined> {
  const { response } = exchange;
  const decoded = decode(response);
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  return new Promise((resolve, reject) => {
    // The first outcome wins (a promise settles once); the stream is let go after it.
    function stopReading() {
      signal.removeEventListener("abort", onAbort);
      decoded.removeAllListeners("data");
      decoded.destroy();
    }
    function onAbort() {
      reject(signal.reason);
      stopReading();
    }
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    decoded.on("data", (chunk: Uint8Array) => {
      bytes += chunk.byteLength;
      if (bytes <= maxBytes) return void (text += decoder.decode(chunk, { stream: true }));
      resolve(undefined);
      stopReading();
    });
    decoded.once("end", () => {
      resolve(text + decoder.decode());
      signal.removeEventListener("abort", onAbort);
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
