/**
 * One HTTP request over one fresh connection, traced as blackbox_exporter traces its probes. Built
 * on `node:http(s)`, whose sockets report each moment; Deno's `fetch` reports none.
 *
 * @module
 */
import { lookup, type LookupAddress } from "node:dns";
import { type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP, type LookupFunction, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from "node:tls";
import { DeniedAddressError, isDenied } from "./denied_networks.ts";
import { MAX_CERT_ALT_NAMES, MAX_CERT_NAME_LENGTH } from "./result.ts";
import { printable } from "../text.ts";

/** Moments of one request on the monotonic clock, filled in as they happen (Go's `httptrace`). */
export interface HopTrace {
  readonly startMs: number;
  lookedUpMs?: number;
  connectedMs?: number;
  secureMs?: number;
  firstByteMs?: number;
  /** The end of the body as far as it was read. */
  endMs?: number;
  remoteAddress?: string | undefined;
  tlsVersion?: string | undefined;
  certificate?: ReturnType<typeof certificateDetails>;
}

/** The request to send, and where its moments go. */
export interface OutgoingRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  readonly verify: boolean;
  readonly caCert: string | null;
  readonly denied: BlockList;
  readonly signal: AbortSignal;
  readonly trace: HopTrace;
}

/** An answer whose headers are in; its body is unread. */
export interface Exchange {
  readonly response: IncomingMessage;
  /** Ends the connection, whatever is left of the body. */
  close(): void;
  /** What broke the connection since, if anything did (the body's own stream may not say). */
  failure(): Error | undefined;
}

/**
 * Sends `request` over a new connection (a pooled one would hide what a new visitor pays); rejects
 * with what the connection reported (`code`: `ECONNREFUSED`…), or with the signal's reason.
 */
export function sendRequest(url: URL, request: OutgoingRequest): Promise<Exchange> {
  request.signal.throwIfAborted();
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isIP(host) !== 0 && isDenied(request.denied, host)) {
    return Promise.reject(new DeniedAddressError(host));
  }
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(url, {
      method: request.method,
      headers: request.headers,
      agent: false,
      rejectUnauthorized: request.verify,
      // Replaces the usual roots, as curl's --cacert does (adding to them cost ~20 ms each time).
      ...(request.caCert === null ? {} : { ca: request.caCert }),
      lookup: vettedLookup(request),
    });
    let failure: Error | undefined;
    const onAbort = () => outgoing.destroy(request.signal.reason);
    request.signal.addEventListener("abort", onAbort, { once: true });
    outgoing.once("socket", (socket: Socket) => traceSocket(socket, request.trace));
    outgoing.once("response", (response) => {
      request.trace.firstByteMs ??= performance.now();
      resolve({ response, close: () => outgoing.destroy(), failure: () => failure });
    });
    outgoing.on("error", (error) => {
      failure = error;
      reject(error);
    });
    // Settles what nothing else did (a 101 upgrade answers with neither a response nor an error).
    outgoing.once("close", () => {
      request.signal.removeEventListener("abort", onAbort);
      reject(
        failure ?? Object.assign(new Error("Connection closed without a response"), {
          code: "ECONNRESET",
        }),
      );
    });
    outgoing.end(request.body ?? undefined);
  });
}

/**
 * A resolver that times the lookup and refuses a denied address before any connection is made (a
 * socket's own "lookup" event can come before there is a socket to listen on).
 */
function vettedLookup({ denied, trace }: OutgoingRequest): LookupFunction {
  return (hostname, options, done) =>
    (lookup as LookupFunction)(hostname, options, (error, address, family) => {
      trace.lookedUpMs = performance.now();
      const refused = (typeof address === "string" ? [address] : address ?? [])
        .map((a: string | LookupAddress) => typeof a === "string" ? a : a.address)
        .find((a) => isDenied(denied, a));
      if (error === null && refused !== undefined) done(new DeniedAddressError(refused), "", 0);
      else done(error, address, family);
    });
}

function traceSocket(socket: Socket, trace: HopTrace): void {
  // First: a TLS socket starts its handshake in a listener of this event, which is TLS time.
  socket.prependOnceListener("connect", () => {
    trace.connectedMs = performance.now();
    // Read now: it is gone once the response has ended. ::ffff:a.b.c.d (dual stack) is a.b.c.d.
    trace.remoteAddress = socket.remoteAddress?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  });
  socket.once("secureConnect", () => {
    trace.secureMs = performance.now();
    const tls = socket as TLSSocket;
    trace.tlsVersion = tls.getProtocol() ?? undefined;
    trace.certificate = certificateDetails(tls.getPeerCertificate());
  });
  socket.prependOnceListener("data", () => trace.firstByteMs ??= performance.now());
}

/** Each phase of a hop; it counts only when it ended (a cut handshake has no TLS time). */
const PHASES = {
  dnsMs: (hop: HopTrace) => span(hop.startMs, hop.lookedUpMs),
  connectMs: (hop: HopTrace) => span(hop.lookedUpMs ?? hop.startMs, hop.connectedMs),
  tlsMs: (hop: HopTrace) => span(hop.connectedMs, hop.secureMs),
  firstByteMs: (hop: HopTrace) => span(hop.secureMs ?? hop.connectedMs, hop.firstByteMs),
  transferMs: (hop: HopTrace) => span(hop.firstByteMs, hop.endMs),
};

type PhaseTimes = Record<keyof typeof PHASES, number | null>;

/** Each phase summed over the hops, as blackbox_exporter sums redirects; null for none. */
export function phaseTimes(hops: readonly HopTrace[]): PhaseTimes {
  return Object.fromEntries(
    Object.entries(PHASES).map(([phase, time]) => {
      const times = hops.map(time).filter((ms) => ms !== null);
      return [phase, times.length === 0 ? null : times.reduce((sum, ms) => sum + ms, 0)];
    }),
  ) as PhaseTimes;
}

function span(fromMs: number | undefined, toMs: number | undefined): number | null {
  if (fromMs === undefined || toMs === undefined) return null;
  // Rounds a sub-nanosecond span (which the message format cannot carry) to zero.
  const ms = toMs - fromMs;
  return ms < 1e-6 ? 0 : ms;
}

/** The certificate as a result's fields, its server-chosen names fit to store and print. */
function certificateDetails(certificate: PeerCertificate) {
  if (certificate === undefined || Object.keys(certificate).length === 0) return undefined;
  const expiresAt = new Date(certificate.valid_to);
  const year = expiresAt.getUTCFullYear();
  return {
    certSubject: cleanName(distinguishedName(certificate.subject)),
    certIssuer: cleanName(distinguishedName(certificate.issuer)),
    certAltNames: (certificate.subjectaltname ?? "").split(", ").filter((name) => name !== "")
      .slice(0, MAX_CERT_ALT_NAMES).map(cleanName),
    certExpiresAt: Number.isNaN(year) || year < 1 || year > 9999 ? null : expiresAt.toISOString(),
  };
}

/** `CN=example.com, O=Example` from node's `{ CN: "example.com", O: "Example" }`. */
function distinguishedName(name: object | undefined): string {
  return Object.entries((name ?? {}) as Record<string, string | string[]>)
    .flatMap(([key, values]) =>
      (Array.isArray(values) ? values : [values]).map((v) => `${key}=${v}`)
    )
    .join(", ");
}

function cleanName(text: string): string {
  return printable(text).slice(0, MAX_CERT_NAME_LENGTH).toWellFormed();
}

let rehearsal: Promise<void> | undefined;

/**
 * Rehearses, once per process, what a lookup, a connection and a TLS handshake set up on first use
 * (tens of milliseconds that would count as the first site's); a failed rehearsal costs only that.
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
  const exchange = await sendRequest(new URL(`http://localhost:${server.addr.port}/`), {
    method: "GET",
    headers: {},
    body: null,
    verify: true,
    caCert: null,
    denied: new BlockList(),
    signal: AbortSignal.timeout(2_000), // (it takes a few ms)
    trace: { startMs: 0 },
  });
  try {
    for await (const _ of exchange.response);
  } finally {
    exchange.close();
  }
}
