/**
 * Partitions of `checks` (one a day) and the rollups (one a month): created ahead of time, so no
 * batch waits on DDL, and dropped whole once past their retention (SQL functions of the schema).
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { Sql } from "./client.ts";

const DAY_MS = 86_400_000;

/**
 * Makes sure the partitions from yesterday (a check made just before midnight and stored after it)
 * to `aheadDays` days after `now` exist; returns the names of those it created.
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

/** Creates the missing partitions of the given UTC days (`YYYY-MM-DD`); returns their names. */
export async function ensurePartitionsFor(sql: Sql, days: readonly string[]): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT p AS name
    FROM unnest(${days}::date[]) AS d, monitor_ensure_partitions(d, d) AS p`;
  return rows.map((r) => r.name);
}

/** How long each kind of row is kept, in days (RETAIN_CHECKS_DAYS, RETAIN_ROLLUPS_DAYS). */
export type Retention = Settings["database"]["retention"];

/** The names of the partitions {@link prune} dropped; `rollups` holds hourly and daily ones. */
export interface Pruned {
  readonly checks: readonly string[];
  readonly rollups: readonly string[];
}

/** Drops the partitions whose every row is older than its retention. */
export async function prune(sql: Sql, now: Date, retention: Retention): Promise<Pruned> {
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
 * Why the database does not keep a check made at `checkedAt`, or `undefined` when it does: one
 * older than the rollups are kept would be pruned at once, one more than a day ahead comes from a
 * clock far off, and each would add a partition (a hostile batch thousands). A check older than
 * the raw checks' retention still counts in its rollups.
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
