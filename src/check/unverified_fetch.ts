/**
 * A `fetch` that does not verify TLS certificates, for sites configured with `tls_verify: false`
 * (Deno's `fetch` can only skip verification for the whole process). Built on node:http(s) with a
 * fresh connection per request; it implements only what `checkSite` uses: method, headers, body,
 * signal, no redirect following, and gzip/deflate/br decoding.
 *
 * @module
 */
import { type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

/**
 * Fetches `input` without verifying the server's certificate.
 *
 * @param input The URL.
 * @param init Method, headers, body and signal; other fields are ignored.
 * @returns The response; its body is decoded as `fetch` would.
 */
export function unverifiedFetch(
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : input);
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  const headers = Object.fromEntries(new Headers(init.headers).entries());
  return new Promise<Response>((resolve, reject) => {
    const outgoing = request(url, {
      method: init.method ?? "GET",
      headers,
      agent: false, // no pooling: a fresh connection, as for every other check
      rejectUnauthorized: false,
      ...(init.signal ? { signal: init.signal } : {}),
    }, (incoming) => resolve(toResponse(incoming)));
    outgoing.once("error", reject);
    outgoing.end(typeof init.body === "string" ? init.body : undefined);
  });
}

function toResponse(incoming: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const status = incoming.statusCode ?? 0;
  if ([101, 204, 205, 304].includes(status)) {
    incoming.resume();
    return new Response(null, { status, headers });
  }
  const encoding = headers.get("content-encoding")?.trim().toLowerCase();
  const decoder = encoding === "gzip" || encoding === "x-gzip"
    ? createGunzip()
    : encoding === "deflate"
    ? createInflate()
    : encoding === "br"
    ? createBrotliDecompress()
    : undefined;
  const body = decoder === undefined ? incoming : incoming.pipe(decoder);
  if (decoder !== undefined) incoming.once("error", (error) => decoder.destroy(error));
  return new Response(toWebStream(body, incoming), { status, headers });
}

/**
 * A web stream over a node stream, with back-pressure. (Readable.toWeb throws from inside the
 * runtime when the reader cancels while data is still arriving, which a capped body read does.)
 */
function toWebStream(body: Readable, connection: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      body.on("data", (chunk: Uint8Array) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 0) <= 0) body.pause();
      });
      body.once("end", () => {
        if (!done) controller.close();
        done = true;
      });
      body.once("error", (error) => {
        if (!done) controller.error(error);
        done = true;
      });
    },
    pull() {
      body.resume();
    },
    cancel() {
      done = true;
      body.destroy();
      connection.destroy();
    },
  }, { highWaterMark: 4 });
}
