/**
 * The PostgreSQL connection pool (postgres.js) from {@link Settings}.
 *
 * @module
 */
import net from "node:net";
import { checkServerIdentity } from "node:tls";
import postgres from "postgres";
import type { DatabaseTls, Settings } from "../config/settings.ts";
import { readPem } from "../config/pem.ts";

/** A postgres.js pool. */
export type Sql = postgres.Sql;

/**
 * Opens a pool; connections are made on first use.
 *
 * @param settings The `database` part of the settings; `schema` becomes the search path.
 * @returns The pool. End it with `sql.end({ timeout })`.
 * @throws {UsageError} When the CA file cannot be read.
 *
 * @example
 * ```ts ignore
 * import { connectDatabase } from "./client.ts";
 * const sql = connectDatabase(settings.database);
 * await sql.end({ timeout: 5 });
 * ```
 */
export function connectDatabase(
  settings: Pick<Settings["database"], "url" | "tls" | "schema">,
): Sql {
  const options = {
    max: 4,
    onnotice: () => {},
    connect_timeout: CONNECT_TIMEOUT_SECONDS,
    // Documented in postgres.js's README, missing from its types.
    socket: openSocket,
    ssl: tlsOptions(settings.tls, new URL(settings.url).hostname),
    connection: {
      application_name: "website-monitor",
      ...(settings.schema === undefined ? {} : { search_path: settings.schema }),
    },
  };
  return postgres(withoutTlsParameters(settings.url), options);
}

const CONNECT_TIMEOUT_SECONDS = 10;

/** What postgres.js passes to its `socket` option: the hosts and ports of the URI, or a path. */
interface SocketTarget {
  readonly host: readonly string[];
  readonly port: readonly number[];
  readonly path?: string | false;
}

/**
 * postgres.js's own sockets leave Nagle's algorithm on: the last message of a COPY then waits for
 * the server's delayed ACK, about 40 ms a COPY. This opens the TCP connection with TCP_NODELAY
 * instead; TLS is still negotiated by postgres.js on top. (DATABASE_URL names one host.)
 */
async function openSocket(target: SocketTarget): Promise<net.Socket> {
  if (target.path) return await connectWithin(net.connect(target.path), target.path);
  const host = target.host[0] ?? "localhost";
  const port = target.port[0] ?? 5432;
  const socket = await connectWithin(net.connect({ host, port, noDelay: true }), `${host}:${port}`);
  // postgres.js reads these for TLS (the server name to send) and for its messages.
  return Object.assign(socket, { host, port });
}

/** The socket once connected; rejects and destroys it when it fails or takes too long. */
function connectWithin(socket: net.Socket, where: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        Object.assign(new Error(`connect to ${where} timed out`), { code: "CONNECT_TIMEOUT" }),
      );
    }, CONNECT_TIMEOUT_SECONDS * 1000);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

type SslOption = false | "prefer" | Record<string, unknown>;

/** postgres.js's `ssl` option for an `sslmode`, with libpq's meaning of each mode. */
function tlsOptions(tls: DatabaseTls | null, host: string): SslOption {
  if (tls === null || tls.mode === "disable") return false;
  if (tls.mode === "allow" || tls.mode === "prefer") return "prefer";
  const ca = tls.caFile === undefined ? {} : { ca: readPem(tls.caSetting!, tls.caFile) };
  if (tls.mode === "require" && tls.caFile === undefined) return { rejectUnauthorized: false };
  if (tls.mode === "verify-full") {
    // Explicitly: for a host given as an IP address, postgres.js passes no server name and the
    // name would not be checked at all.
    return {
      ...ca,
      rejectUnauthorized: true,
      checkServerIdentity: (_: string, cert: Parameters<typeof checkServerIdentity>[1]) =>
        checkServerIdentity(host.replace(/^\[(.*)\]$/, "$1"), cert),
    };
  }
  // verify-ca, and require with a CA: the chain is verified, the host name is not.
  return { ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
}

/**
 * The URI without libpq's TLS parameters: they are turned into the `ssl` option above, and
 * postgres.js would send unknown ones to the server as settings, which it refuses.
 */
function withoutTlsParameters(uri: string): string {
  const url = new URL(uri);
  for (const name of ["sslmode", "sslrootcert", "sslcert", "sslkey", "ssl"]) {
    url.searchParams.delete(name);
  }
  return url.toString();
}
