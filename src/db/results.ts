/**
 * Storing consumed messages: check results into `checks` (with their `sites` and hourly rollups),
 * unreadable messages into `rejected_messages`, all in one transaction and idempotent, so a batch
 * delivered twice is stored once.
 *
 * @module
 */
import type { CheckResult } from "../check/result.ts";
import type { Sql } from "./client.ts";
import type { TransactionSql } from "postgres";
import { ensurePartitionsFor } from "./partitions.ts";

/** A Kafka message that is not a readable check result. */
export interface RejectedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly reason: string;
}

/** What a call to {@link storeBatch} did. */
export interface StoreOutcome {
  /** New rows in `checks`. */
  readonly inserted: number;
  /** Results already stored (a redelivery). */
  readonly duplicates: number;
  /** New rows in `rejected_messages`. */
  readonly rejected: number;
}

/** Options of {@link storeBatch}. */
export interface StoreOptions {
  /** Messages kept aside; ones already stored (same topic, partition, offset) are skipped. */
  readonly rejected?: readonly RejectedMessage[];
}

const NO_PARTITION = "23514"; // check_violation: "no partition of relation … found for row"

/**
 * Stores a batch: the checks, their sites and their hourly rollups in one statement (one round
 * trip), and any rejected messages with them in one transaction.
 *
 * @param sql The database.
 * @param results Check results; ones already stored (same `checkId` and `checkedAt`) are skipped
 *   and do not count twice in the rollups.
 * @param options Rejected messages to keep beside them.
 * @returns Counts of what was new.
 *
 * @example
 * ```ts ignore
 * import { storeBatch } from "./results.ts";
 * const { inserted } = await storeBatch(sql, results, { rejected });
 * ```
 */
export async function storeBatch(
  sql: Sql,
  results: readonly CheckResult[],
  options: StoreOptions = {},
): Promise<StoreOutcome> {
  const rejected = options.rejected ?? [];
  let written;
  try {
    written = await insertBatch(sql, results, rejected);
  } catch (error) {
    if ((error as { code?: string } | null)?.code !== NO_PARTITION) throw error;
    // Partitions are made days ahead; a check outside them is rare and still must not be lost.
    await ensurePartitionsFor(sql, [...new Set(results.map((r) => r.checkedAt.slice(0, 10)))]);
    written = await insertBatch(sql, results, rejected);
  }
  return { ...written, duplicates: results.length - written.inserted };
}

type Written = { inserted: number; rejected: number };

/** One statement (in a transaction only with rejected messages to store beside it). */
function insertBatch(
  sql: Sql,
  results: readonly CheckResult[],
  rejected: readonly RejectedMessage[],
): Promise<Written> {
  return rejected.length === 0
    ? insertChecks(sql, results).then((inserted) => ({ inserted, rejected: 0 }))
    : sql.begin(async (tx) => ({
      inserted: await insertChecks(tx, results),
      rejected: await insertRejected(tx, rejected),
    }));
}

/**
 * Inserts the checks not stored yet, upserts their sites and adds the inserted ones (only those)
 * to the rollups, in one statement. A site takes the name, URL and pattern of its latest check,
 * unless a later one is stored. A rollup gets the batch's response times as a list of buckets
 * (usually one or two), cheaper to add than a histogram.
 */
async function insertChecks(sql: Sql | TransactionSql, results: readonly CheckResult[]) {
  if (results.length === 0) return 0;
  const column = <T>(pick: (r: CheckResult) => T) => results.map(pick);
  // postgres.js would send a plain array of booleans typed as one boolean; 16 is bool's type id.
  const booleans = (pick: (r: CheckResult) => boolean | null) => sql.array(column(pick), 16);
  const [{ inserted }] = await sql<[{ inserted: number }]>`
    WITH input AS (
      SELECT * FROM unnest(
        ${column((r) => r.checkId)}::uuid[],
        ${column((r) => r.siteId)}::text[],
        ${column((r) => r.siteName)}::text[],
        ${column((r) => r.url)}::text[],
        ${column((r) => r.pattern)}::text[],
        ${column((r) => r.checkedAt)}::timestamptz[],
        ${column((r) => r.timeToHeadersMs)}::float8[],
        ${column((r) => r.responseTimeMs)}::float8[],
        ${column((r) => r.statusCode)}::int4[],
        ${booleans((r) => r.patternMatched)}::bool[],
        ${column((r) => r.certExpiresAt)}::timestamptz[],
        ${booleans((r) => r.up)}::bool[],
        ${column((r) => r.error?.kind ?? null)}::text[],
        ${column((r) => r.error?.message ?? null)}::text[],
        ${column((r) => r.version)}::int2[]
      ) AS t(check_id, site_id, site_name, url, pattern, checked_at, time_to_headers_ms,
             response_time_ms, status_code, pattern_matched, cert_expires_at, up, error_kind,
             error_message, message_version)
    ),
    latest AS (
      SELECT DISTINCT ON (site_id) site_id, site_name AS name, url, pattern, checked_at
      FROM input
      ORDER BY site_id, checked_at DESC
    ),
    inserted AS (
      INSERT INTO checks (check_id, site_id, checked_at, time_to_headers_ms, response_time_ms,
                          status_code, pattern_matched, cert_expires_at, up, error_kind,
                          error_message, message_version)
      SELECT check_id, site_id, checked_at, time_to_headers_ms, response_time_ms, status_code,
             pattern_matched, cert_expires_at, up, error_kind, error_message, message_version
      FROM input
      ON CONFLICT (check_id, checked_at) DO NOTHING
      RETURNING site_id, checked_at, response_time_ms, up
    ),
    deltas AS (
      SELECT site_id, date_trunc('hour', checked_at, 'UTC') AS hour, count(*) AS checks,
             count(*) FILTER (WHERE NOT up) AS failures, count(response_time_ms) AS responses,
             coalesce(sum(response_time_ms), 0) AS response_time_ms_sum,
             array_agg(monitor_response_bucket(response_time_ms))
               FILTER (WHERE response_time_ms IS NOT NULL) AS buckets
      FROM inserted
      GROUP BY 1, 2
    ),
    site_rows AS (
      INSERT INTO sites AS s (site_id, name, url, pattern, first_checked_at, changed_at)
      SELECT site_id, name, url, pattern, checked_at, checked_at FROM latest
      ON CONFLICT (site_id) DO UPDATE
        SET name = excluded.name, url = excluded.url, pattern = excluded.pattern,
            changed_at = excluded.changed_at
        WHERE excluded.changed_at > s.changed_at
          AND (s.name, s.url, s.pattern) IS DISTINCT FROM (excluded.name, excluded.url, excluded.pattern)
    ),
    rollups_updated AS (
      UPDATE check_rollups_hourly AS r
      SET checks = r.checks + d.checks,
          failures = r.failures + d.failures,
          responses = r.responses + d.responses,
          response_time_ms_sum = r.response_time_ms_sum + d.response_time_ms_sum,
          response_time_histogram = monitor_histogram_add_buckets(r.response_time_histogram, d.buckets)
      FROM deltas AS d
      WHERE r.site_id = d.site_id AND r.hour = d.hour
      RETURNING r.site_id, r.hour
    ),
    rollups_added AS (
      INSERT INTO check_rollups_hourly AS r
      SELECT site_id, hour, checks, failures, responses, response_time_ms_sum,
             monitor_histogram_add_buckets('{}', buckets)
      FROM deltas AS d
      WHERE NOT EXISTS (
        SELECT FROM rollups_updated AS u WHERE u.site_id = d.site_id AND u.hour = d.hour
      )
      -- Added by another writer since this statement started: add to that one.
      ON CONFLICT (site_id, hour) DO UPDATE
        SET checks = r.checks + excluded.checks,
            failures = r.failures + excluded.failures,
            responses = r.responses + excluded.responses,
            response_time_ms_sum = r.response_time_ms_sum + excluded.response_time_ms_sum,
            response_time_histogram = monitor_histogram_merge(
              r.response_time_histogram, excluded.response_time_histogram)
    )
    SELECT count(*)::int AS inserted FROM inserted`;
  return inserted;
}

async function insertRejected(sql: TransactionSql, rejected: readonly RejectedMessage[]) {
  const rows = rejected.map((m) => ({
    topic: m.topic,
    partition: m.partition,
    kafka_offset: m.offset,
    message_key: m.key,
    message: m.value,
    reason: m.reason,
  }));
  const written = await sql`
    INSERT INTO rejected_messages ${sql(rows)}
    ON CONFLICT (topic, partition, kafka_offset) DO NOTHING`;
  return written.count;
}
