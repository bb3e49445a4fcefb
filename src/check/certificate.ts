/**
 * When a server's TLS certificate expires. `fetch` does not expose the peer certificate, so this
 * opens one more TLS connection with node:tls and reads it. Verification is `fetch`'s job: this
 * connection only reads dates, so it accepts what it is shown.
 *
 * @module
 */
import { connect } from "node:tls";

/** Options of {@link certificateExpiry}. */
export interface CertificateExpiryOptions {
  /** Gives up after this long. */
  readonly timeoutMs: number;
  /** Gives up when this is aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Reads the expiry of the certificate that `url`'s server presents.
 *
 * @param url An `https:` URL.
 * @param options How long to try, and a signal to give up early.
 * @returns The certificate's "not after" time, or `null` when it could not be read in time.
 *
 * @example
 * ```ts ignore
 * import { certificateExpiry } from "./certificate.ts";
 * const expiresAt = await certificateExpiry(new URL("https://example.com/"), { timeoutMs: 5_000 });
 * ```
 */
export function certificateExpiry(
  url: URL,
  options: CertificateExpiryOptions,
): Promise<Date | null> {
  const { signal } = options;
  if (signal?.aborted) return Promise.resolve(null);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  // node:tls refuses an IP address as the server name (SNI carries names only).
  const isName = !/^[\d.]+$/.test(host) && !host.includes(":");
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: Number(url.port || 443),
      ...(isName ? { servername: host } : {}),
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => finish(null), Math.max(1, options.timeoutMs));
    const onAbort = () => finish(null);
    signal?.addEventListener("abort", onAbort, { once: true });
    function finish(expiresAt: Date | null) {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(expiresAt);
    }
    socket.once("secureConnect", () => {
      const notAfter = new Date(socket.getPeerCertificate().valid_to);
      finish(Number.isNaN(notAfter.getTime()) ? null : notAfter);
    });
    socket.once("error", () => finish(null));
  });
}
