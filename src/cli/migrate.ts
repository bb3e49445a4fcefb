/**
 * `monitor migrate`: applies the SQL files in `sql/` that the database does not have yet.
 *
 * @module
 */
import { loadMigrations, migrate } from "../db/migrate.ts";
import { ensurePartitions } from "../db/partitions.ts";
import { type CliContext, prepare } from "./context.ts";
import { openDatabase } from "./connect.ts";

/** Runs `monitor migrate`; a {@link ServiceError} when PostgreSQL cannot be used. */
export async function migrateCommand(context: CliContext): Promise<void> {
  const { settings, log } = prepare(context);
  const migrations = await loadMigrations();
  const sql = await openDatabase(settings);
  try {
    const applied = await migrate(sql, migrations, { log, schema: settings.database.schema });
    const created = await ensurePartitions(sql, new Date(), settings.database.partitionsAheadDays);
    if (created.length > 0) log.info("partitions created", { partitions: created.join(", ") });
    log.info(applied.length === 0 ? "database schema is up to date" : "database schema migrated", {
      applied: applied.length,
      total: migrations.length,
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
