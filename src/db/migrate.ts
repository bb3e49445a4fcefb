/**
 * Applies the SQL files of `sql/` (`NNNN_name.sql`) in order, each in a transaction recorded in
 * `monitor_migrations`. Safe to run again, and at once: an advisory lock makes runs take turns.
 *
 * @module
 */
import { ServiceError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Sql } from "./client.ts";
import schema from "../../sql/0001_schema.sql" with { type: "text" };

/** File name → SQL text of every file in `sql/`, imported so that a compiled binary has them. */
export const MIGRATION_FILES: Readonly<Record<string, string>> = { "0001_schema.sql": schema };

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
 * Turns `NNNN_name.sql` files (name → text; defaults to `sql/`) into migrations, in version order;
 * rejects a name that does not follow `NNNN_name.sql`, and two files sharing a version.
 */
export async function loadMigrations(
  files: Readonly<Record<string, string>> = MIGRATION_FILES,
): Promise<Migration[]> {
  const migrations = await Promise.all(
    Object.entries(files).map(async ([name, sql]) => {
      const match = FILE_NAME.exec(name);
      if (match === null) throw new Error(`Migration "${name}" is not named NNNN_name.sql`);
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sql));
      return { version: Number(match[1]), name, sql, checksum: new Uint8Array(digest).toHex() };
    }),
  );
  migrations.sort((a, b) => a.version - b.version);
  const twin = migrations.findIndex((m, i) => i > 0 && m.version === migrations[i - 1]!.version);
  if (twin > 0) {
    throw new Error(
      `Migrations "${migrations[twin - 1]!.name}" and "${migrations[twin]!.name}" share a version`,
    );
  }
  return migrations;
}

/**
 * Applies the migrations not yet applied and returns their names; `schema`, when given, is created
 * first (it should be the connection's search path). A migration that fails is rolled back and the
 * later ones are not tried; a {@link ServiceError} when an applied migration's file has changed
 * since, or the database holds migrations this program does not know.
 */
export async function migrate(
  sql: Sql,
  migrations: readonly Migration[],
  options: { readonly log: Logger; readonly schema?: string | undefined },
): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of migrations) {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
      if (options.schema !== undefined) await tx`CREATE SCHEMA IF NOT EXISTS ${tx(options.schema)}`;
      await tx`
        CREATE TABLE IF NOT EXISTS monitor_migrations (
          version    integer PRIMARY KEY,
          name       text NOT NULL,
          checksum   text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`;
      // Unreleased, the schema is one file edited in place: an older database is recreated.
      const unknown = await tx<{ name: string }[]>`
        SELECT name FROM monitor_migrations
        WHERE NOT (name = ANY(${migrations.map((m) => m.name)})) ORDER BY version`;
      if (unknown.length > 0) {
        throw new ServiceError(
          `The database was migrated by an unreleased development version (${
            unknown.map((m) => m.name).join(", ")
          }): recreate it (the local one: deno task services:reset), then run "monitor migrate"`,
        );
      }
      const [done] = await tx<{ checksum: string }[]>`
        SELECT checksum FROM monitor_migrations WHERE version = ${migration.version}`;
      if (done !== undefined && done.checksum !== migration.checksum) {
        throw new ServiceError(
          `Migration "${migration.name}" was changed after it was applied: restore it and put the change in a new file`,
        );
      }
      if (done !== undefined) return;
      await tx.unsafe(migration.sql);
      await tx`
        INSERT INTO monitor_migrations (version, name, checksum)
        VALUES (${migration.version}, ${migration.name}, ${migration.checksum})`;
      applied.push(migration.name);
      options.log.info("migration applied", { migration: migration.name });
    });
  }
  return applied;
}

/**
 * Checks that every migration in `sql/` has been applied, so that a consumer never writes into a
 * missing table; a {@link ServiceError} naming what to run when not.
 */
export async function requireMigrated(sql: Sql): Promise<void> {
  const [{ exists }] = await sql<[{ exists: boolean }]>`
    SELECT to_regclass('monitor_migrations') IS NOT NULL AS exists`;
  const rows = exists ? await sql<{ name: string }[]>`SELECT name FROM monitor_migrations` : [];
  const applied = new Set(rows.map((row) => row.name));
  const missing = Object.keys(MIGRATION_FILES).filter((name) => !applied.has(name));
  if (missing.length > 0) {
    throw new ServiceError(
      `The database schema is not up to date (missing ${
        missing.join(", ")
      }): run "monitor migrate" first`,
    );
  }
}
