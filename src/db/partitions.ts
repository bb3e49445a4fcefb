/**
 * Partitions of `checks` (one a day) and the rollups (one a month): created ahead of time, so no
 * batch waits on DDL, and dropped whole once past their retention, every hour while a consumer runs.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log.ts";
import type { Sql } from "./client.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * Makes sure the partitions from yesterday (a check made just before midnight and stored after it)
 * to `aheadDays` days after `now` exist; returns the names of those it created.
 */
export async function ensurePartitions(sql: Sql, now: Date, aheadDays: number): Promise<string[]> {
  const from = new Date(now.getTime() - DAY_MS).toISOString().slice(0, 10);
  const to = new Date(now.getTime() + aheadDays * DAY_MS).toISOString().slice(0, 10);
  const rows = await sql<{ name: string }[]>`
    SELECT monitor_ensure_partitions AS name FROM monitor_ensure_partitions(${from}, ${to})`;
  return rows.map((r) => r.name);
}

/** Creates the missing partitions of the given UTC days (`YYYY-MM-DD`); returns their names. */
export async function ensurePartitionsFor(sql: Sql, days: readonly string[]): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT p AS name
    FROM unnest(${days}::date[]) AS d, monitor_ensure_partitions(d, d) AS p`;
  return rows.map((r) => r.name);
}

/** How long each kind of row is kept, in days (RETAIN_CHECKS_DAYS, RETAIN_ROLLUPS_DAYS). */
export type Retention = Settings["database"]["retention"];

/**
 * Drops the partitions whose every row is older than its retention; returns their names, hourly
 * and daily ones together in `rollups`.
 */
export async function prune(
  sql: Sql,
  now: Date,
  retention: Retention,
): Promise<{ checks: string[]; rollups: string[] }> {
  const cutoff = (days: number) => new Date(now.getTime() - days * DAY_MS);
  return await sql.begin(async (tx) => {
    const drop = async (table: string, days: number) =>
      (await tx<{ name: string }[]>`
        SELECT p AS name FROM monitor_drop_partitions(${table}::regclass, ${cutoff(days)}) AS p`)
        .map((r) => r.name);
    return {
      checks: await drop("checks", retention.checksDays),
      rollups: [
        ...await drop("check_rollups_hourly", retention.rollupsDays),
        ...await drop("check_rollups_daily", retention.rollupsDays),
      ],
    };
  });
}

/**
 * Makes the partitions (and prunes) once before it resolves, then every hour until `stop()`; a
 * failed round is logged and tried again at the next: the partitions made ahead bridge the gap.
 */
export async function startPartitionMaintenance(
  sql: Sql,
  options: {
    readonly aheadDays: number;
    /** Whether to drop the partitions older than `retention` too (CONSUME_PRUNE). */
    readonly prune: boolean;
    readonly retention: Retention;
    readonly log: Logger;
  },
): Promise<{ stop(): void }> {
  await maintainPartitions();
  const timer = setInterval(maintainPartitions, HOUR_MS);
  return { stop: () => clearInterval(timer) };

  /** One round; never rejects. */
  async function maintainPartitions(): Promise<void> {
    const { log } = options;
    const now = new Date();
    try {
      const created = await ensurePartitions(sql, now, options.aheadDays);
      if (created.length > 0) log.info("partitions created", { partitions: created.join(", ") });
      if (options.prune) {
        const dropped = await prune(sql, now, options.retention);
        const names = [...dropped.checks, ...dropped.rollups];
        if (names.length > 0) {
          log.info("expired partitions dropped", { partitions: names.join(", ") });
        }
      }
    } catch (error) {
      log.warn("partition maintenance failed; trying again in an hour", {
        error: (error as Error).message,
      });
    }
  }
}
