/**
 * The first check of a process, timed as truly as the later ones: on first use the runtime sets up
 * what a lookup, a connection and a TLS handshake need (tens of milliseconds, that would count as
 * the site's), so a rehearsal runs that code once before any check is timed.
 *
 * @module
 */
import { BlockList } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { sendRequest } from "./http_exchange.ts";

/** Longest a rehearsal may hold up the first check (it takes a few ms). */
const REHEARSAL_TIMEOUT_MS = 2_000;

let rehearsal: Promise<void> | undefined;

/**
 * Rehearses a check, once per process: a TLS ClientHello written into a stream that goes nowhere,
 * and one request by name to a listener of its own. One that fails changes only the first times.
 */
export function rehearseOnce(): Promise<void> {
  rehearsal ??= rehearse().catch(() => {});
  return rehearsal;
}

async function rehearse(): Promise<void> {
  const nowhere = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });
  tlsConnect({ socket: nowhere, servername: "rehearsal.invalid" }).on("error", () => {}).destroy();
  nowhere.destroy();

  await using server = Deno.serve(
    { hostname: "localhost", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  const exchange = await sendRequest(
    new URL(`http://localhost:${server.addr.port}/`),
    {
      method: "GET",
      headers: {},
      body: null,
      verify: true,
      caCert: null,
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
}
