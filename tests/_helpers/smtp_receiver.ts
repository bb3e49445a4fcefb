/**
 * A real SMTP server (npm:smtp-server) on a random loopback port, with AUTH and STARTTLS on the
 * test certificate, keeping every message it takes.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

const TLS_DIR = new URL("../testdata/tls/", import.meta.url);
const CERT = Deno.readTextFileSync(new URL("localhost.pem", TLS_DIR));
const KEY = Deno.readTextFileSync(new URL("localhost.key", TLS_DIR));
export const CA = Deno.readTextFileSync(new URL("ca.pem", TLS_DIR));

export const USER = "monitor";
export const PASSWORD = "pa55-w0rd-n0t-in-messages";

/** One message as the server took it. */
export interface Delivered {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: string;
  readonly secure: boolean;
  readonly user: unknown;
}

/** A real SMTP server on a random loopback port, with AUTH; use with `await using`. */
export async function startSmtpServer(options: Partial<SMTPServerOptions> = {}) {
  const delivered: Delivered[] = [];
  const server = new SMTPServer({
    key: KEY,
    cert: CERT,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error("Authentication failed"), { responseCode: 535 }));
      }
    },
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      stream.on("end", () => {
        delivered.push({
          from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          secure: session.secure,
          user: session.user,
        });
        callback();
      });
    },
    ...options,
  });
  // A client that refuses the certificate ends the handshake: the server reports it, and an
  // EventEmitter's unheard "error" would throw.
  const errors: Error[] = [];
  server.on("error", (error: Error) => errors.push(error));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    delivered,
    errors,
    async [Symbol.asyncDispose]() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A header of a raw message, unfolded; undefined when it has none. */
export function header(raw: string, name: string): string | undefined {
  const head = raw.split("\r\n\r\n")[0]!.replace(/\r\n[ \t]+/g, " ");
  return head.split("\r\n").find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    ?.slice(name.length + 1).trim();
}
