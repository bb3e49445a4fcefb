/**
 * Partition maintenance while a consumer runs: the coming days' partitions made ahead and, when
 * asked, the expired ones dropped, now and then every hour.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Sql } from "./client.ts";
import { ensurePartitions, prune, type Retention } from "./partitions.ts";

/** Options of {@link startPartitionMaintenance}. */
export interface MaintenanceOptions {
  /** How many days after today get their partitions ahead of time. */
  readonly aheadDays: number;
  /** Whether to drop the partitions older than `retention` too (CONSUME_PRUNE). */
  readonly prune: boolean;
  readonly retention: Retention;
  readonly log: Logger;
  readonly now?: () => Date;
}

/** Maintenance in progress. */
export interface PartitionMaintenance {
  /** Starts no more rounds (one in progress finishes). */
  stop(): void;
}

const HOUR_MS = 3_600_000;

/**
 * Makes the partitions (and prunes) once, then every hour; resolves once the first round is over.
 * A failed round is logged and tried again at the next: the partitions made ahead bridge the gap.
 */
export async function startPartitionMaintenance(
  sql: Sql,
  options: MaintenanceOptions,
): Promise<PartitionMaintenance> {
  await maintainPartitions(sql, options);
  const timer = setInterval(() => maintainPartitions(sql, options), HOUR_MS);
  return { stop: () => clearInterval(timer) };
}

/** One round; never rejects. */
async function maintainPartitions(sql: Sql, options: MaintenanceOptions): Promise<void> {
  const { log } = options;
  const now = options.now?.() ?? new Date();
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
