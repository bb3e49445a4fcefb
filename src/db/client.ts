/**
 * The PostgreSQL connection pool (postgres.js) from {@link Settings}.
 *
 * @module
 */
import net from "node:net";
import { checkServerIdentity, type ConnectionOptions } from "node:tls";
import postgres from "postgres";
import { type DatabaseTls, readPem, type Settings } from "../config/settings.ts";

/** A postgres.js pool. */
export type Sql = postgres.Sql;

/**
 * Opens a pool, `schema` as its search path, PostgreSQL cancelling a statement running longer than
 * `statementTimeoutMs`; connections are made on first use. End it with `sql.end({ timeout })`.
 *
 * @throws {UsageError} When the CA file cannot be read.
 */
export function connectDatabase(
  settings: Pick<Settings["database"], "url" | "tls" | "schema">,
  options: { readonly statementTimeoutMs?: number } = {},
): Sql {
  const url = new URL(settings.url);
  // libpq's TLS parameters go in `ssl`: postgres.js would send them as settings the server refuses.
  for (const name of ["sslmode", "sslrootcert", "sslcert", "sslkey", "ssl"]) {
    url.searchParams.delete(name);
  }
  const poolOptions = {
    max: 4,
    onnotice: () => {},
    connect_timeout: 10,
    // Documented in postgres.js's README, missing from its types.
    socket: openSocket,
    ssl: tlsOptions(settings.tls, url.hostname),
    connection: {
      application_name: "website-monitor",
      ...(settings.schema === undefined ? {} : { search_path: settings.schema }),
      ...(options.statementTimeoutMs === undefined
        ? {}
        : { statement_timeout: options.statementTimeoutMs }),
    },
  };
  return postgres(url.toString(), poolOptions);
}

/**
 * A TCP connection with TCP_NODELAY (with postgres.js's own, the last message of a COPY waits ~40 ms
 * for the server's delayed ACK), returned before it connects as postgres.js does: a failure reaches
 * it as `error` and `close` (a rejected promise would leave the pool's connection stuck).
 */
function openSocket(target: { host: string[]; port: number[]; path?: string | false }): net.Socket {
  if (target.path) return net.connect(target.path);
  const host = target.host[0] ?? "localhost";
  const port = target.port[0] ?? 5432;
  // postgres.js reads host and port for TLS (the server name to send) and for its messages.
  return Object.assign(net.connect({ host, port, noDelay: true }), { host, port });
}

/** postgres.js's `ssl` option for an `sslmode`, with libpq's meaning of each mode. */
function tlsOptions(tls: DatabaseTls | null, host: string): false | "prefer" | ConnectionOptions {
  if (tls === null || tls.mode === "disable") return false;
  if (tls.mode === "allow" || tls.mode === "prefer") return "prefer";
  const ca = tls.caFile === undefined ? {} : { ca: readPem(tls.caSetting!, tls.caFile) };
  if (tls.mode === "require" && tls.caFile === undefined) return { rejectUnauthorized: false };
  // verify-ca, and require with a CA, verify the chain, not the host name. verify-full checks the
  // name explicitly: for a host given as an IP address postgres.js passes no server name.
  const name = tls.mode === "verify-full" ? host.replace(/^\[(.*)\]$/, "$1") : undefined;
  return {
    ...ca,
    rejectUnauthorized: true,
    checkServerIdentity: (_, cert) =>
      name === undefined ? undefined : checkServerIdentity(name, cert),
  };
}

/** Whether the database takes queries now: rejects with postgres.js's reason when not. */
export async function pingDatabase(sql: Sql): Promise<void> {
  await sql`SELECT 1`;
}
