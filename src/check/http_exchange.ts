/**
 * One HTTP request over one fresh connection, traced as blackbox_exporter traces its probes: when
 * the name was resolved, the connection opened, TLS agreed and the first byte arrived, and what
 * the connection was (address, TLS version, the server's certificate). Built on `node:http(s)`,
 * whose sockets report each of those moments; Deno's `fetch` reports none of them.
 *
 * @module
 */
import { lookup, type LookupAddress } from "node:dns";
import { type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type BlockList, isIP, type LookupFunction, type Socket } from "node:net";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { DeniedAddressError, isDenied } from "./denied_networks.ts";
import { MAX_CERT_ALT_NAMES, MAX_CERT_NAME_LENGTH } from "./result.ts";
import { printable } from "../text.ts";

/** What the server's certificate says, read from the connection that carried the request. */
export interface CertificateDetails {
  readonly subject: string;
  readonly issuer: string;
  readonly altNames: readonly string[];
  /** Its "not after" time; `null` when it is unreadable or outside the years 1 to 9999. */
  readonly expiresAt: Date | null;
}

/**
 * Moments of one request, on the monotonic clock, filled in as they happen (Go's `httptrace`):
 * whatever stage a failure stopped it at, the moments before are known.
 */
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
  certificate?: CertificateDetails | undefined;
}

/** The request to send. */
export interface OutgoingRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  /** Refuse a certificate that does not verify (a site's `tls_verify`). */
  readonly verify: boolean;
  /** CA certificates (PEM) to trust instead of the usual ones. */
  readonly caCert: string | null;
  /** Networks the request may not connect to. */
  readonly denied: BlockList;
  readonly signal: AbortSignal;
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
 * Sends `request` to `url` over a new connection (no pooling: a pooled connection would hide the
 * time a new visitor pays), recording each moment in `trace`.
 *
 * @param url An `http:` or `https:` URL.
 * @param request Method, headers, body, TLS trust and a signal that ends it.
 * @param trace Filled in as the request goes; read it whether this resolves or rejects.
 * @param monotonicMs The clock of `trace`.
 * @returns The response once its headers are in.
 * @throws {Error} What the connection reported (a `code` such as `ECONNREFUSED`), or the
 *   signal's reason once it is aborted.
 */
export function sendRequest(
  url: URL,
  request: OutgoingRequest,
  trace: HopTrace,
  monotonicMs: () => number,
): Promise<Exchange> {
  request.signal.throwIfAborted();
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isIP(host) !== 0 && isDenied(request.denied, host)) {
    return Promise.reject(new DeniedAddressError(host));
  }
  const secure = url.protocol === "https:";
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(url, {
      method: request.method,
      headers: request.headers,
      agent: false,
      rejectUnauthorized: request.verify,
      // The site's CA replaces the usual roots, as curl's --cacert and blackbox_exporter's ca_file
      // do (adding it to the 150 roots cost ~20 ms of parsing per connection).
      ...(request.caCert === null ? {} : { ca: request.caCert }),
      lookup: vettedLookup(request.denied, trace, monotonicMs),
    });
    let failure: Error | undefined;
    const onAbort = () => outgoing.destroy(request.signal.reason);
    request.signal.addEventListener("abort", onAbort, { once: true });
    outgoing.once("socket", (socket: Socket) => traceSocket(socket, trace, monotonicMs));
    outgoing.once("response", (response) => {
      trace.firstByteMs ??= monotonicMs();
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
 * A resolver that times the lookup in `trace` and refuses an answer in a denied network, before
 * any connection. (A socket's own "lookup" event can come before there is a socket to listen on.
 * Not called for an IP address.)
 */
function vettedLookup(
  denied: BlockList,
  trace: HopTrace,
  monotonicMs: () => number,
): LookupFunction {
  return (hostname, options, done) =>
    (lookup as LookupFunction)(hostname, options, (error, address, family) => {
      trace.lookedUpMs = monotonicMs();
      const addresses = typeof address === "string" ? [address] : address ?? [];
      const refused = addresses.map((a: string | LookupAddress) =>
        typeof a === "string" ? a : a.address
      )
        .find((a) => isDenied(denied, a));
      if (error === null && refused !== undefined) done(new DeniedAddressError(refused), "", 0);
      else done(error, address, family);
    });
}

/** Records the socket's moments, its address and what TLS it agreed, as they happen. */
function traceSocket(socket: Socket, trace: HopTrace, monotonicMs: () => number): void {
  // First in line: a TLS socket starts its handshake in a listener of this same event (building
  // the ClientHello; on a process's first handshake, setting TLS up), which is TLS time.
  socket.prependOnceListener("connect", () => {
    trace.connectedMs = monotonicMs();
    // (Read now: the address is gone once the response has ended.)
    // (An IPv4 address reached over a dual-stack socket reads ::ffff:a.b.c.d: it is a.b.c.d.)
    trace.remoteAddress = socket.remoteAddress?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  });
  socket.once("secureConnect", () => {
    trace.secureMs = monotonicMs();
    const tls = socket as TLSSocket;
    trace.tlsVersion = tls.getProtocol() ?? undefined;
    trace.certificate = certificateDetails(tls.getPeerCertificate());
  });
  socket.prependOnceListener("data", () => trace.firstByteMs ??= monotonicMs());
}

/** Time spent in each phase, summed over the hops of a check; null for a phase none went through. */
export interface PhaseTimes {
  readonly dnsMs: number | null;
  readonly connectMs: number | null;
  readonly tlsMs: number | null;
  readonly firstByteMs: number | null;
  readonly transferMs: number | null;
}

/**
 * Sums each phase over the hops of a check (as blackbox_exporter does for redirects). A phase
 * counts for a hop only when it ended: a handshake cut short has no TLS time.
 *
 * @param hops The traces of a check's requests, in order.
 * @returns Milliseconds per phase.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { phaseTimes } from "./http_exchange.ts";
 * const hop = { startMs: 0, connectedMs: 2, firstByteMs: 10, endMs: 11 };
 * assert.deepEqual(phaseTimes([hop]), {
 *   dnsMs: null, connectMs: 2, tlsMs: null, firstByteMs: 8, transferMs: 1,
 * });
 * ```
 */
export function phaseTimes(hops: readonly HopTrace[]): PhaseTimes {
  const spans = hops.map((hop) => {
    const connectFrom = hop.lookedUpMs ?? hop.startMs;
    const requestFrom = hop.secureMs ?? hop.connectedMs;
    return {
      dnsMs: span(hop.startMs, hop.lookedUpMs),
      connectMs: span(connectFrom, hop.connectedMs),
      tlsMs: span(hop.connectedMs, hop.secureMs),
      firstByteMs: span(requestFrom, hop.firstByteMs),
      transferMs: span(hop.firstByteMs, hop.endMs),
    };
  });
  function total(phase: keyof PhaseTimes): number | null {
    const times = spans.map((s) => s[phase]).filter((ms) => ms !== null);
    return times.length === 0 ? null : times.reduce((sum, ms) => sum + ms, 0);
  }
  return {
    dnsMs: total("dnsMs"),
    connectMs: total("connectMs"),
    tlsMs: total("tlsMs"),
    firstByteMs: total("firstByteMs"),
    transferMs: total("transferMs"),
  };
}

function span(fromMs: number | undefined, toMs: number | undefined): number | null {
  if (fromMs === undefined || toMs === undefined) return null;
  // A monotonic clock never runs back; this only rounds a sub-nanosecond span (which the message
  // format cannot carry) to zero.
  const ms = toMs - fromMs;
  return ms < 1e-6 ? 0 : ms;
}

/** The certificate's names as text fit to store and print (a server chooses them). */
function certificateDetails(certificate: PeerCertificate): CertificateDetails | undefined {
  if (certificate === undefined || Object.keys(certificate).length === 0) return undefined;
  const expiresAt = new Date(certificate.valid_to);
  const year = expiresAt.getUTCFullYear();
  return {
    subject: cleanName(distinguishedName(certificate.subject)),
    issuer: cleanName(distinguishedName(certificate.issuer)),
    altNames: (certificate.subjectaltname ?? "").split(", ").filter((name) => name !== "")
      .slice(0, MAX_CERT_ALT_NAMES).map(cleanName),
    expiresAt: Number.isNaN(year) || year < 1 || year > 9999 ? null : expiresAt,
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
