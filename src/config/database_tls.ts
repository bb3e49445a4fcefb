/**
 * TLS to PostgreSQL as libpq chooses it.
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

/** TLS to PostgreSQL; `caSetting` names the setting that named `caFile` (unset: the system's CAs). */
export interface DatabaseTls {
  readonly mode: typeof SSL_MODES[number];
  readonly caFile?: string;
  readonly caSetting?: string;
}

/**
 * TLS to PostgreSQL as libpq would choose it (null: plain TCP): `sslmode` from the URI (default:
 * verify-full with a CA, else none); the CA from DATABASE_CA_FILE, PGSSLROOTCERT or `sslrootcert`
 * (`system`: the system's). `require` with a CA verifies the CA, as in libpq. Throws for a URI that
 * does not parse.
 */
export function databaseTls(
  uri: string,
  ca: { readonly [K in "DATABASE_CA_FILE" | "PGSSLROOTCERT"]?: string | undefined },
): DatabaseTls | null {
  const query = new URL(uri).searchParams;
  const rootCert = query.get("sslrootcert") ?? undefined;
  const [caFile, caSetting] = ca.DATABASE_CA_FILE !== undefined
    ? [ca.DATABASE_CA_FILE, "DATABASE_CA_FILE"]
    : ca.PGSSLROOTCERT !== undefined
    ? [ca.PGSSLROOTCERT, "PGSSLROOTCERT"]
    : rootCert !== undefined && rootCert !== "system"
    ? [rootCert, "sslrootcert in DATABASE_URL"]
    : [undefined, undefined];
  const mode = query.get("sslmode") ?? (query.get("ssl") === "true" ? "require" : undefined);
  if (mode === undefined && caFile === undefined && rootCert !== "system") return null;
  return {
    mode: (mode ?? "verify-full") as DatabaseTls["mode"],
    ...(caFile === undefined ? {} : { caFile, caSetting }),
  };
}
