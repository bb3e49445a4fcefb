/**
 * Applies the versioned SQL files in `sql/` (`NNNN_name.sql`) in order, each in its own
 * transaction, recording what was applied in `monitor_migrations`. Safe to run again, and from
 * several processes at once: a transaction-level advisory lock makes them take turns.
 *
 * @module
 */
import { ServiceError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type postgres from "postgres";
import type { Sql } from "./client.ts";
import { MIGRATION_FILES } from "./migrations.ts";

/** One SQL file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** SHA-256 of the text, to notice a file edited after it was applied. */
  readonly checksum: string;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// Any fixed 64-bit number; "wmon" in ASCII, so it is recognisable in pg_locks.
const LOCK_KEY = 0x776d6f6e;

/**
 * Turns `NNNN_name.sql` files into migrations, in version order.
 *
 * @param files File name → SQL text; defaults to the project's `sql/`.
 * @returns The migrations.
 * @throws {Error} When a name does not follow `NNNN_name.sql`, or two files share a version.
 */
export async function loadMigrations(
  files: Readonly<Record<string, string>> = MIGRATION_FILES,
): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const [name, text] of Object.entries(files)) {
    const match = FILE_NAME.exec(name);
    if (match === null) throw new Error(`Migration "${name}" is not named NNNN_name.sql`);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    migrations.push({
      version: Number(match[1]),
      name,
      sql: text,
      checksum: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(""),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(
        `Migrations "${migrations[i - 1]!.name}" and "${migrations[i]!.name}" share a version`,
      );
    }
  }
  return migrations;
}

/**
 * Applies the migrations not yet applied.
 *
 * @param sql The database.
 * @param migrations From {@link loadMigrations}.
 * @param options `log`: where to say what was applied; `schema`: created first when given (it
 *   should be the connection's search path).
 * @returns The names of the migrations applied by this call.
 * @throws {ServiceError} When an applied migration's file has changed since, or the database
 *   holds migrations this program does not know (made by an unreleased development version).
 * @throws {Error} When a migration fails (its transaction is rolled back and the later ones are
 *   not tried).
 *
 * @example
 * ```ts ignore
 * import { loadMigrations, migrate } from "./migrate.ts";
 * await migrate(sql, await loadMigrations(), { log });
 * ```
 */
export async function migrate(
  sql: Sql,
  migrations: readonly Migration[],
  options: { readonly log: Logger; readonly schema?: string | undefined },
): Promise<string[]> {
  const { log, schema } = options;
  const applied: string[] = [];
  for (const migration of migrations) {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
      if (schema !== undefined) await tx`CREATE SCHEMA IF NOT EXISTS ${tx(schema)}`;
      await tx`
        CREATE TABLE IF NOT EXISTS monitor_migrations (
          version    integer PRIMARY KEY,
          name       text NOT NULL,
          checksum   text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`;
      await refuseUnknown(tx, migrations);
      const [done] = await tx<{ checksum: string }[]>`
        SELECT checksum FROM monitor_migrations WHERE version = ${migration.version}`;
      if (done !== undefined) {
        if (done.checksum !== migration.checksum) {
          throw new ServiceError(
            `Migration "${migration.name}" was changed after it was applied: restore it and put the change in a new file`,
          );
        }
        return;
      }
      await tx.unsafe(migration.sql);
      await tx`
        INSERT INTO monitor_migrations (version, name, checksum)
        VALUES (${migration.version}, ${migration.name}, ${migration.checksum})`;
      applied.push(migration.name);
      log.info("migration applied", { migration: migration.name });
    });
  }
  return applied;
}

/**
 * Checks that every migration has been applied, so a consumer never writes into a missing table.
 *
 * @param sql The database.
 * @param migrations What should have been applied; defaults to the project's `sql/`.
 * @throws {ServiceError} Naming what to run, when the schema is behind.
 *
 * @example
 * ```ts ignore
 * import { requireMigrated } from "./migrate.ts";
 * await requireMigrated(sql);
 * ```
 */
export async function requireMigrated(sql: Sql, migrations?: readonly Migration[]): Promise<void> {
  const expected = migrations ?? await loadMigrations();
  const applied = await appliedNames(sql);
  const missing = expected.filter((m) => !applied.has(m.name)).map((m) => m.name);
  if (missing.length > 0) {
    throw new ServiceError(
      `The database schema is not up to date (missing ${
        missing.join(", ")
      }): run "monitor migrate" first`,
    );
  }
}

/** The names recorded in `monitor_migrations`; none when the table does not exist yet. */
async function appliedNames(sql: Sql): Promise<Set<string>> {
  const [{ exists }] = await sql<[{ exists: boolean }]>`
    SELECT to_regclass('monitor_migrations') IS NOT NULL AS exists`;
  if (!exists) return new Set();
  const rows = await sql<{ name: string }[]>`SELECT name FROM monitor_migrations`;
  return new Set(rows.map((r) => r.name));
}

/**
 * Refuses a database migrated with files that no longer exist. Before the first release the
 * schema is one file edited in place, so a developer's database from an earlier commit holds
 * other names; it is recreated, never patched.
 */
async function refuseUnknown(
  sql: postgres.TransactionSql,
  migrations: readonly Migration[],
): Promise<void> {
  const known = migrations.map((m) => m.name);
  const unknown = await sql<{ name: string }[]>`
    SELECT name FROM monitor_migrations WHERE NOT (name = ANY(${known})) ORDER BY version`;
  if (unknown.length > 0) {
    throw new ServiceError(
      `The database was migrated by an unreleased development version (${
        unknown.map((m) => m.name).join(", ")
      }): recreate it (the local one: deno task services:reset), then run "monitor migrate"`,
    );
  }
}
