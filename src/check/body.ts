/**
 * Reading a response's body, no more of it than a site allows. Only a body with a pattern is kept,
 * in memory the checker's checks share, claimed chunk by chunk: when a chunk does not fit, the
 * largest body gives way if it is larger than the asking one would become, else the asking one gives
 * up; so a big body never starves small ones, and no check waits for memory another holds.
 *
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { RE2JS } from "re2js";
import type { Exchange } from "./http_exchange.ts";
import type { CheckError } from "./result.ts";

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
 * @returns When the body ended and whether it matched (`null`: no pattern), or why it was too big.
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
  // The first chunk as it came; only a second makes the buffer that grows with the body (reserving
  // a resizable buffer costs ~20 µs).
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
    const endMs = options.monotonicMs();
    if (noRoom) return tooLittleRoom();
    const body = grown ?? first ?? new Uint8Array();
    return { endMs, patternMatched: pattern === null ? null : pattern.test(withoutBom(body)) };
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

/** Without a leading byte order mark, which browsers skip. */
function withoutBom(bytes: Uint8Array): Uint8Array {
  const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return hasBom ? bytes.subarray(3) : bytes;
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
export interface BodyBudget {
  readonly totalBytes: number;
  heldBytes(): number;
  /** Opens a claim for one body; `onEvicted` is called once if a smaller body takes its bytes. */
  claim(onEvicted: () => void): BodyClaim;
}

/** One body's share of a {@link BodyBudget}; disposing of it gives its bytes back. */
interface BodyClaim extends Disposable {
  /** Adds `bytes`, evicting the largest body if need be; `false` closes the claim. */
  take(bytes: number): boolean;
}

/** The total when `CHECK_BODY_MEMORY_BYTES` is unset: a quarter of V8's `heap_size_limit`. */
export function defaultBodyBytes(heapLimitBytes: number): number {
  return Math.floor(heapLimitBytes / 4);
}

/** A budget of `totalBytes` for the bodies in flight. */
export function bodyBudget(totalBytes: number): BodyBudget {
  let freeBytes = totalBytes;
  const holders = new Set<Holder>();

  function close(holder: Holder): void {
    if (holders.delete(holder)) freeBytes += holder.bytes;
  }

  return {
    totalBytes,
    heldBytes: () => totalBytes - freeBytes,
    claim(onEvicted) {
      const own: Holder = { bytes: 0, onEvicted };
      holders.add(own);
      return {
        take(bytes) {
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
