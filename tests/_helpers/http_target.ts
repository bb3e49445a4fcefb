/**
 * A real HTTP server on a random loopback port for checker tests (after dsherret/dax's
 * `src/test/server.deno.ts`, MIT). Routes:
 *
 * - `/code/:n`: status n, body `code n`
 * - `/sleep/:ms`: answers after ms milliseconds
 * - `/redirect/:n`: redirects n times, then `/code/200`
 * - `/loop`: redirects to itself
 * - `/redirect-to/:url`: redirects to the (URI-encoded) URL
 * - `/text/:text`: the text as body
 * - `/slow-body/:ms`: headers at once, the body after ms milliseconds
 * - `/timed/:headersMs/:bodyMs`: headers after headersMs, then the body after bodyMs more
 * - `/endless`: a body that never ends
 * - `/echo`: the request's method, `x-test` header and body, as JSON
 * - `/see-other`: 303 to `/echo`
 * - `/gzip-bomb/:mib`: a small gzip body that inflates to :mib MiB of zeros
 * - `/bytes/:hex`: the bytes as body (for invalid UTF-8)
 * - `/encoded/:encoding`: `hello encoded`, compressed with gzip, deflate or br
 *
 * Also a raw TCP target with canned answers, and a silent one that accepts and never answers.
 *
 * @module
 */

import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";

/** A running target; `close()` stops it and waits for open connections. */
export interface HttpTarget extends AsyncDisposable {
  readonly url: (path: string) => string;
  /** The client port of each request received, in order (one port per TCP connection). */
  readonly peers?: readonly number[];
  close(): Promise<void>;
}

/**
 * Starts the target; with `tls`, over HTTPS as {@link startHttpsTarget}, `/` answering
 * `secure hello`. Use with `await using`.
 */
export function startHttpTarget(options: { tls?: boolean } = {}): HttpTarget {
  const controller = new AbortController();
  const peers: number[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  function later<T>(ms: number, value: () => T): Promise<T> {
    return new Promise((resolve) => {
      const id = setTimeout(() => {
        timers.delete(id);
        resolve(value());
      }, ms);
      timers.add(id);
    });
  }

  function slowBody(ms: number): Response {
    const body = new ReadableStream({
      start: (stream) => {
        later(ms, () => {
          try {
            stream.enqueue(new TextEncoder().encode("done"));
            stream.close();
          } catch { /* the client went away */ }
        });
      },
    });
    return new Response(body);
  }

  const tls = options.tls ? LOCALHOST_TLS : {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {}, ...tls },
    (request, info) => {
      peers.push(info.remoteAddr.port);
      const [, route = "", arg = "", arg2 = ""] = new URL(request.url).pathname.split("/");
      switch (route) {
        case "":
          return new Response(options.tls ? "secure hello" : "not found", {
            status: options.tls ? 200 : 404,
          });
        case "code": {
          const status = Number(arg);
          const hasBody = ![204, 205, 304].includes(status);
          return new Response(hasBody ? `code ${arg}` : null, { status });
        }
        case "sleep":
          return later(Number(arg), () => new Response(`slept ${arg}`));
        case "redirect": {
          const remaining = Number(arg);
          const location = remaining > 1 ? `/redirect/${remaining - 1}` : "/code/200";
          return new Response(null, { status: 302, headers: { location } });
        }
        case "redirect-to":
          return new Response(null, {
            status: 302,
            headers: { location: decodeURIComponent(arg) },
          });
        case "loop":
          return new Response(null, { status: 302, headers: { location: "/loop" } });
        case "text":
          return new Response(decodeURIComponent(arg));
        case "slow-body":
          return slowBody(Number(arg));
        case "timed":
          return later(Number(arg), () => slowBody(Number(arg2)));
        case "endless": {
          const chunk = new Uint8Array(64 * 1024).fill(97);
          return new Response(new ReadableStream({ pull: (stream) => stream.enqueue(chunk) }));
        }
        case "echo":
          return request.text().then((body) =>
            Response.json({ method: request.method, xTest: request.headers.get("x-test"), body })
          );
        case "see-other":
          return new Response(null, { status: 303, headers: { location: "/echo" } });
        case "gzip-bomb":
          return new Response(gzipBomb(Number(arg)), { headers: { "content-encoding": "gzip" } });
        case "encoded": {
          const text = new TextEncoder().encode("hello encoded");
          const body = arg === "br"
            ? brotliCompressSync(text)
            : arg === "deflate"
            ? deflateSync(text)
            : gzipSync(text);
          return new Response(new Uint8Array(body), { headers: { "content-encoding": arg } });
        }
        case "bytes":
          return new Response(Uint8Array.from(arg.match(/../g) ?? [], (h) => parseInt(h, 16)));
        default:
          return new Response("not found", { status: 404 });
      }
    },
  );

  async function close() {
    for (const id of timers) clearTimeout(id);
    controller.abort();
    await server.finished;
  }
  return {
    url: (path) =>
      options.tls
        ? `https://localhost:${server.addr.port}${path}`
        : `http://127.0.0.1:${server.addr.port}${path}`,
    peers,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A gzip stream of `mib` MiB of zeros: about 1 KiB on the wire per MiB. */
function gzipBomb(mib: number): ReadableStream<Uint8Array> {
  const zeros = new Uint8Array(1024 * 1024);
  let sent = 0;
  return new ReadableStream<BufferSource>({
    pull(stream) {
      if (sent++ < mib) stream.enqueue(zeros);
      else stream.close();
    },
  }).pipeThrough(new CompressionStream("gzip"));
}

/**
 * A raw TCP server that answers every connection with `respond` (bytes, then close), for
 * responses no well-behaved server would send. `respond` of `null` resets the connection: closing
 * a socket whose request was never read makes the kernel answer with RST.
 */
export function startRawTarget(respond: Uint8Array | null): HttpTarget {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    for await (const conn of listener) {
      try {
        if (respond === null) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        } else {
          await conn.read(new Uint8Array(4096));
          await conn.write(respond);
        }
      } catch { /* the client went away */ }
      conn.close();
    }
  })();
  async function close() {
    listener.close();
    await served.catch(() => {});
  }
  return {
    url: (path) => `http://127.0.0.1:${listener.addr.port}${path}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * A TCP server that accepts connections and never says a word: a TLS handshake with it, or an
 * HTTP request to it, waits until the client gives up.
 */
export function startSilentTarget(): HttpTarget {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const served = (async () => {
    for await (const conn of listener) conns.add(conn);
  })();
  async function close() {
    listener.close();
    await served.catch(() => {});
    for (const conn of conns) conn.close();
  }
  return {
    url: (path) => `https://127.0.0.1:${listener.addr.port}${path}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A loopback port with nothing listening on it. */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

const TLS_DIR = new URL("../testdata/tls/", import.meta.url);

/** The certificate and key of `localhost`, issued by the test CA: `Deno.serve` options. */
export const LOCALHOST_TLS: { readonly cert: string; readonly key: string } = {
  cert: Deno.readTextFileSync(new URL("localhost.pem", TLS_DIR)),
  key: Deno.readTextFileSync(new URL("localhost.key", TLS_DIR)),
};
/** The test CA (PEM) that signed the HTTPS target's certificate. Test-only; never trust it elsewhere. */
export const TEST_CA_PEM: string = Deno.readTextFileSync(new URL("ca.pem", TLS_DIR));
/** The test CA file's path. */
export const TEST_CA_FILE: string = new URL("ca.pem", TLS_DIR).pathname;
/** When the HTTPS target's certificate expires (`openssl x509 -enddate` of localhost.pem). */
export const TEST_CERT_EXPIRES_AT = "2046-01-23T18:16:15.000Z";

/**
 * An HTTPS server on loopback whose certificate, signed by {@link TEST_CA_PEM}, is valid for
 * `localhost` only, with the routes of {@link startHttpTarget}; `/` answers 200 `secure hello`.
 */
export function startHttpsTarget(): HttpTarget {
  return startHttpTarget({ tls: true });
}
