/**
 * The PostgreSQL connection pool (postgres.js) from {@link Settings}.
 *
 * @module
 */
import postgres from "postgres";
import type { Settings } from "../config/settings.ts";
import { readPem } from "../config/pem.ts";

/** A postgres.js pool. */
export type Sql = postgres.Sql;

/**
 * Opens a pool; connections are made on first use.
 *
 * @param settings The `database` part of the settings; `schema` becomes the search path.
 * @returns The pool. End it with `sql.end({ timeout })`.
 * @throws {UsageError} When `DATABASE_CA_FILE` cannot be read.
 *
 * @example
 * ```ts ignore
 * import { connectDatabase } from "./client.ts";
 * const sql = connectDatabase(settings.database);
 * await sql.end({ timeout: 5 });
 * ```
 */
export function connectDatabase(settings: Settings["database"]): Sql {
  const ssl = settings.caFile === undefined
    ? {}
    : { ssl: { ca: readPem("DATABASE_CA_FILE", settings.caFile), rejectUnauthorized: true } };
  return postgres(settings.url, {
    max: 4,
    onnotice: () => {},
    connect_timeout: 10,
    ...ssl,
    connection: {
      application_name: "website-monitor",
      ...(settings.schema === undefined ? {} : { search_path: settings.schema }),
    },
  });
}
