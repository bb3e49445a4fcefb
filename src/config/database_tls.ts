/**
 * TLS to PostgreSQL as libpq chooses it, from `sslmode` and `sslrootcert` in the connection URI and
 * the CA settings.
 *
 * @module
 */
/** PostgreSQL's `sslmode` values, as libpq defines them (`allow` is taken as `prefer`). */
export const SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
] as const;
/** One of {@link SSL_MODES}. */
export type SslMode = typeof SSL_MODES[number];

/** TLS to PostgreSQL, from `sslmode` (and `sslrootcert`) in DATABASE_URL and the CA settings. */
export interface DatabaseTls {
  readonly mode: SslMode;
  /** The CA to verify the server with; unset: the system's CAs. */
  readonly caFile?: string;
  /** Which setting named {@link caFile}, for messages. */
  readonly caSetting?: string;
}

/** How messages name `sslrootcert` in the URI. */
const SSLROOTCERT = "sslrootcert in DATABASE_URL";

/** Where the CA may be named, most specific first. */
export interface CaSources {
  readonly DATABASE_CA_FILE: string | undefined;
  readonly PGSSLROOTCERT: string | undefined;
}

/**
 * TLS to PostgreSQL as libpq would choose it: `sslmode` from the URI (default: verify-full when a
 * CA is given, else none); the CA from DATABASE_CA_FILE, PGSSLROOTCERT or `sslrootcert` in the URI
 * (`system`: the system's CAs). `require` with a CA verifies the CA, as in libpq.
 *
 * @param uri DATABASE_URL, already checked: it parses and its `sslmode` is one of {@link SSL_MODES}.
 * @param ca The CA settings.
 * @returns The TLS to use; null: plain TCP.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { databaseTls } from "./database_tls.ts";
 * const uri = "postgres://u@db.example/app?sslmode=require";
 * assert.deepEqual(databaseTls(uri, { DATABASE_CA_FILE: "ca.pem", PGSSLROOTCERT: undefined }), {
 *   mode: "require",
 *   caFile: "ca.pem",
 *   caSetting: "DATABASE_CA_FILE",
 * });
 * ```
 */
export function databaseTls(uri: string, ca: CaSources): DatabaseTls | null {
  const query = new URL(uri).searchParams;
  const rootCert = query.get("sslrootcert") ?? undefined;
  const [caFile, caSetting] = ca.DATABASE_CA_FILE !== undefined
    ? [ca.DATABASE_CA_FILE, "DATABASE_CA_FILE"]
    : ca.PGSSLROOTCERT !== undefined
    ? [ca.PGSSLROOTCERT, "PGSSLROOTCERT"]
    : rootCert !== undefined && rootCert !== "system"
    ? [rootCert, SSLROOTCERT]
    : [undefined, undefined];
  const mode = query.get("sslmode") ?? (query.get("ssl") === "true" ? "require" : undefined);
  if (mode === undefined && caFile === undefined && rootCert !== "system") return null;
  return {
    mode: (mode ?? "verify-full") as SslMode,
    ...(caFile === undefined ? {} : { caFile, caSetting }),
  };
}

/**
 * The file `sslrootcert` in the URI names, if any.
 *
 * @param uri A URI that parses.
 * @returns The path; undefined when there is none or it is `system`.
 * @throws {TypeError} When the URI does not parse.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rootCertFile } from "./database_tls.ts";
 * assert.equal(rootCertFile("postgres://h/db?sslrootcert=ca.pem"), "ca.pem");
 * assert.equal(rootCertFile("postgres://h/db?sslrootcert=system"), undefined);
 * ```
 */
export function rootCertFile(uri: string): string | undefined {
  const rootCert = new URL(uri).searchParams.get("sslrootcert") ?? undefined;
  return rootCert === "system" ? undefined : rootCert;
}
