/**
 * The first check of a process, timed as truly as the later ones. On first use the runtime
 * compiles and sets up what a lookup, a connection and a TLS handshake need: tens of milliseconds
 * (TLS alone 30 ms and more) that would count as the site's DNS, connect and TLS time. A
 * rehearsal runs that code once before any check is timed.
 *
 * @module
 */
import { BlockList } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { sendRequest } from "./http_exchange.ts";

/** Longest a rehearsal may hold up the first check (it takes a few ms on loopback). */
const REHEARSAL_TIMEOUT_MS = 2_000;

let rehearsal: Promise<void> | undefined;

/**
 * Rehearses a check, once per process: a TLS ClientHello written into a stream that goes
 * nowhere, and one request by name to a listener of its own on loopback. Later calls wait for the
 * same rehearsal; one that fails changes nothing but the first check's times.
 *
 * @returns When it is over.
 *
 * @example
 * ```ts
 * import { rehearseOnce } from "./rehearsal.ts";
 * await rehearseOnce();
 * ```
 */
export function rehearseOnce(): Promise<void> {
  rehearsal ??= rehearse().catch(() => {});
  return rehearsal;
}

async function rehearse(): Promise<void> {
  const nowhere = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });
  tlsConnect({ socket: nowhere, servername: "rehearsal.invalid" }).on("error", () => {}).destroy();
  nowhere.destroy();

  const listener = Deno.listen({ hostname: "localhost", port: 0 });
  const answered = answerOnce(listener);
  try {
    const exchange = await sendRequest(
      new URL(`http://localhost:${listener.addr.port}/`),
      {
        method: "GET",
        headers: {},
        body: null,
        verify: true,
        caCert: null,
        // (Its own listener: no deny list applies.)
        denied: new BlockList(),
        signal: AbortSignal.timeout(REHEARSAL_TIMEOUT_MS),
      },
      { startMs: 0 },
      () => performance.now(),
    );
    try {
      for await (const _ of exchange.response);
    } finally {
      exchange.close();
    }
  } finally {
    listener.close();
    await answered.catch(() => {});
  }
}

async function answerOnce(listener: Deno.Listener): Promise<void> {
  const conn = await listener.accept();
  try {
    // (Read first: closing with the request unread would reset the connection.)
    await conn.read(new Uint8Array(4096));
    await conn.write(
      new TextEncoder().encode(
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
      ),
    );
  } finally {
    conn.close();
  }
}
