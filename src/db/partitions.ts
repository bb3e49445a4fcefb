/**
 * Partitions of `checks` (one a day) and `check_rollups_hourly` (one a month): created ahead of
 * time, so no batch waits on DDL, and dropped whole once older than their retention, so nothing is
 * deleted row by row. The work is done by SQL functions of `sql/0001_schema.sql`.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { Sql } from "./client.ts";

const DAY_MS = 86_400_000;

/**
 * Makes sure the partitions from yesterday to `aheadDays` days after `now` exist (yesterday too, so
 * a check started just before midnight UTC and stored after it always has its day).
 *
 * @param sql The database.
 * @param now The current time.
 * @param aheadDays How many days after today.
 * @returns The names of the partitions this call created.
 *
 * @example
 * ```ts ignore
 * import { ensurePartitions } from "./partitions.ts";
 * await ensurePartitions(sql, new Date(), 7);
 * ```
 */
export async function ensurePartitions(
  sql: Sql,
  now: Date,
  aheadDays: number,
): Promise<string[]> {
  const from = utcDay(new Date(now.getTime() - DAY_MS));
  const to = utcDay(new Date(now.getTime() + aheadDays * DAY_MS));
  const rows = await sql<{ name: string }[]>`
    SELECT monitor_ensure_partitions AS name FROM monitor_ensure_partitions(${from}, ${to})`;
  return rows.map((r) => r.name);
}

/**
 * Creates the partitions for the given days (UTC) where missing: the writer's way out when a
 * check's day has no partition (a consumer catching up on results older than the partitions).
 *
 * @returns The names of the partitions this call created.
 *
 * @example
 * ```ts ignore
 * import { ensurePartitionsFor } from "./partitions.ts";
 * await ensurePartitionsFor(sql, ["2019-06-30"]);
 * ```
 */
export async function ensurePartitionsFor(sql: Sql, days: readonly string[]): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT p AS name
    FROM unnest(${days}::date[]) AS d, monitor_ensure_partitions(d, d) AS p`;
  return rows.map((r) => r.name);
}

/** How long each kind of row is kept, in days (RETAIN_CHECKS_DAYS, RETAIN_ROLLUPS_DAYS). */
export type Retention = Settings["database"]["retention"];

/** What {@link prune} dropped. */
export interface Pruned {
  readonly checks: readonly string[];
  readonly rollups: readonly string[];
}

/**
 * Drops the partitions whose every row is older than its retention.
 *
 * @param sql The database.
 * @param now The current time.
 * @param retention Days to keep raw checks and hourly rollups.
 * @returns The names of the partitions dropped.
 *
 * @example
 * ```ts ignore
 * import { prune } from "./partitions.ts";
 * const { checks } = await prune(sql, new Date(), { checksDays: 30, rollupsDays: 400 });
 * ```
 */
export async function prune(sql: Sql, now: Date, retention: Retention): Promise<Pruned> {
  const cutoff = (days: number) => new Date(now.getTime() - days * DAY_MS);
  return await sql.begin(async (tx) => {
    const checks = await tx<{ name: string }[]>`
      SELECT p AS name FROM monitor_drop_partitions('checks', ${
      cutoff(retention.checksDays)
    }) AS p`;
    const rollups = await tx<{ name: string }[]>`
      SELECT p AS name
      FROM monitor_drop_partitions('check_rollups_hourly', ${cutoff(retention.rollupsDays)}) AS p`;
    return { checks: checks.map((r) => r.name), rollups: rollups.map((r) => r.name) };
  });
}

/**
 * Why the database does not keep a check made at `checkedAt`, or `undefined` when it does. A check
 * older than the rollups are kept would be pruned at once, rollup and all, and one from more than
 * a day ahead comes from a clock far off; each would also add a day's partition, and a batch of
 * hostile times thousands. (A check older than the raw checks' retention still counts in its
 * hour's rollup; its row and partition go at the next prune.)
 *
 * @param checkedAt The check's time (ISO 8601, UTC).
 * @param now The consumer's clock.
 * @param retention How long checks and rollups are kept.
 * @returns The reason, naming the bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outsideRetention } from "./partitions.ts";
 * const now = new Date("2026-11-25T12:00:00Z");
 * const retention = { checksDays: 30, rollupsDays: 400 };
 * assert.equal(outsideRetention("2026-11-25T11:59:00Z", now, retention), undefined);
 * assert.equal(outsideRetention("2026-09-01T00:00:00Z", now, retention), undefined);
 * assert.match(outsideRetention("2019-06-30T12:00:00Z", now, retention)!, /RETAIN_ROLLUPS_DAYS/);
 * ```
 */
export function outsideRetention(
  checkedAt: string,
  now: Date,
  retention: Retention,
): string | undefined {
  const time = Date.parse(checkedAt);
  if (time < now.getTime() - retention.rollupsDays * DAY_MS) {
    return `checkedAt ${checkedAt} is older than rollups are kept (RETAIN_ROLLUPS_DAYS=${retention.rollupsDays})`;
  }
  if (time > now.getTime() + DAY_MS) {
    return `checkedAt ${checkedAt} is more than a day after this consumer's clock (${now.toISOString()})`;
  }
  return undefined;
}

/**
 * `YYYY-MM-DD` of a time, in UTC.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { utcDay } from "./partitions.ts";
 * assert.equal(utcDay(new Date("2026-11-25T23:30:00-02:00")), "2026-11-26");
 * ```
 */
export function utcDay(time: Date): string {
  return time.toISOString().slice(0, 10);
}
