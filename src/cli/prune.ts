/**
 * `monitor prune`: drops the partitions of checks and rollups older than their retention days.
 *
 * @module
 */
import { requireMigrated } from "../db/migrate.ts";
import { prune } from "../db/partitions.ts";
import { type CliContext, prepare } from "./context.ts";
import { openDatabase } from "./connect.ts";

/** Runs `monitor prune`; a `ServiceError` when PostgreSQL cannot be used or is not migrated. */
export async function pruneCommand(context: CliContext): Promise<void> {
  const { settings, log } = prepare(context);
  const sql = await openDatabase(settings);
  try {
    await requireMigrated(sql);
    const dropped = await prune(sql, new Date(), settings.database.retention);
    log.info("expired partitions dropped", {
      checks: dropped.checks.join(", ") || "none",
      rollups: dropped.rollups.join(", ") || "none",
      ...settings.database.retention,
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
