/**
 * Reading a response's body, no more of it than a site allows; only a body with a pattern is kept,
 * in memory the checker's checks share ({@link bodyBudget}).
 *
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { RE2JS } from "re2js";
import type { Exchange } from "./http_exchange.ts";
import type { CheckError } from "./result.ts";

/** When the body ended, and whether it matched the pattern (`null`: there is none). */
export type BodyRead = { readonly endMs: number; readonly patternMatched: boolean | null };

/**
 * Reads a body, undoing its content encoding, and looks for the pattern in it as UTF-8. Stops once
 * the decoded bytes exceed `maxBytes` (a small gzip body can inflate to gigabytes) or the budget;
 * rejects with what broke the connection or the decoding, or with the signal's reason.
 */
export async function readBody(
  exchange: Exchange,
  { maxBytes, pattern, budget, signal }: {
    readonly maxBytes: number;
    readonly pattern: RE2JS | null;
    readonly budget?: BodyBudget | undefined;
    readonly signal: AbortSignal;
  },
): Promise<BodyRead | CheckError> {
  const { response } = exchange;
  signal.throwIfAborted();
  const decoded = decode(response);
  // The first chunk as it came: only a second reserves a growing buffer (which costs ~20 µs).
  let first: Uint8Array | undefined;
  let grown: Uint8Array<ArrayBuffer> | undefined;
  let bytes = 0;
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
        if (first === undefined) first = chunk;
        else {
          grown ??= appended(
            new Uint8Array(new ArrayBuffer(0, { maxByteLength: maxBytes })),
            first,
          );
          appended(grown, chunk);
        }
      }
      bytes += chunk.byteLength;
    }
    const endMs = performance.now();
    if (noRoom) return tooLittleRoom();
    const body = grown ?? first ?? new Uint8Array();
    // Without a leading byte order mark, which browsers skip.
    const hasBom = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
    const text = hasBom ? body.subarray(3) : body;
    return { endMs, patternMatched: pattern === null ? null : pattern.test(text) };
  } catch (error) {
    if (noRoom) return tooLittleRoom();
    throw signal.aborted ? error : closed ?? error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    decoded.destroy();
    grown?.buffer.resize(0);
  }
}

function appended(buffer: Uint8Array<ArrayBuffer>, chunk: Uint8Array): Uint8Array<ArrayBuffer> {
  const at = buffer.byteLength;
  buffer.buffer.resize(at + chunk.byteLength);
  buffer.set(chunk, at);
  return buffer;
}

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

/** The memory shared by the bodies in flight. */
export type BodyBudget = ReturnType<typeof bodyBudget>;

/** The total when `CHECK_BODY_MEMORY_BYTES` is unset: a quarter of V8's `heap_size_limit`. */
export function defaultBodyBytes(heapLimitBytes: number): number {
  return Math.floor(heapLimitBytes / 4);
}

/**
 * A budget of `totalBytes` for the bodies in flight. A chunk that does not fit evicts the largest
 * body if that is larger than the asking one would become, else the asking one gives up: so a big
 * body never starves small ones, and no check waits for memory another holds.
 */
export function bodyBudget(totalBytes: number) {
  let freeBytes = totalBytes;
  const holders = new Set<Holder>();

  function close(holder: Holder): void {
    if (holders.delete(holder)) freeBytes += holder.bytes;
  }

  return {
    totalBytes,
    heldBytes: () => totalBytes - freeBytes,
    /** One body's claim, given back on disposal; `onEvicted` runs once a smaller body takes it. */
    claim(onEvicted: () => void) {
      const own: Holder = { bytes: 0, onEvicted };
      holders.add(own);
      return {
        /** Adds `bytes`, evicting the largest body if need be; `false` closes the claim. */
        take(bytes: number): boolean {
          if (!holders.has(own)) return false;
          if (bytes > freeBytes) {
            let largest = own;
            for (const holder of holders) if (holder.bytes > largest.bytes) largest = holder;
            // Larger than the asking body will be, so larger than `bytes`: it alone makes room.
            if (largest.bytes <= own.bytes + bytes) {
              close(own);
              return false;
            }
            close(largest);
            largest.onEvicted();
          }
          freeBytes -= bytes;
          own.bytes += bytes;
          return true;
        },
        [Symbol.dispose]: () => close(own),
      };
    },
  };
}

interface Holder {
  bytes: number;
  readonly onEvicted: () => void;
}
