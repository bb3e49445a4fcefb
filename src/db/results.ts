/**
 * Storing consumed messages: check results into `checks`, unreadable messages into
 * `rejected_messages`, both in one transaction and idempotent, so a batch delivered twice is
 * stored once.
 *
 * @module
 */
import type { CheckResult } from "../check/result.ts";
import type { Sql } from "./client.ts";

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

// Keeps each statement well under PostgreSQL's 65 535 parameters (15 per row).
const ROWS_PER_STATEMENT = 2_000;

/**
 * Stores a batch in one transaction.
 *
 * @param sql The database.
 * @param results Check results; ones already stored (same `checkId`) are skipped.
 * @param rejected Messages kept aside; ones already stored (same topic, partition, offset) are skipped.
 * @returns Counts of what was new.
 *
 * @example
 * ```ts ignore
 * import { storeBatch } from "./results.ts";
 * const { inserted } = await storeBatch(sql, results, []);
 * ```
 */
export async function storeBatch(
  sql: Sql,
  results: readonly CheckResult[],
  rejected: readonly RejectedMessage[] = [],
): Promise<StoreOutcome> {
  return await sql.begin(async (tx) => {
    let inserted = 0;
    for (let i = 0; i < results.length; i += ROWS_PER_STATEMENT) {
      const rows = results.slice(i, i + ROWS_PER_STATEMENT).map(toRow);
      const written = await tx`
        INSERT INTO checks ${tx(rows)}
        ON CONFLICT (check_id) DO NOTHING`;
      inserted += written.count;
    }
    let rejectedCount = 0;
    if (rejected.length > 0) {
      const rows = rejected.map((m) => ({
        topic: m.topic,
        partition: m.partition,
        kafka_offset: m.offset,
        message_key: m.key,
        message: m.value,
        reason: m.reason,
      }));
      const written = await tx`
        INSERT INTO rejected_messages ${tx(rows)}
        ON CONFLICT (topic, partition, kafka_offset) DO NOTHING`;
      rejectedCount = written.count;
    }
    return { inserted, duplicates: results.length - inserted, rejected: rejectedCount };
  });
}

function toRow(result: CheckResult) {
  return {
    check_id: result.checkId,
    site_id: result.siteId,
    site_name: result.siteName,
    url: result.url,
    checked_at: result.checkedAt,
    time_to_headers_ms: result.timeToHeadersMs,
    response_time_ms: result.responseTimeMs,
    status_code: result.statusCode,
    pattern: result.pattern,
    pattern_matched: result.patternMatched,
    cert_expires_at: result.certExpiresAt,
    up: result.up,
    error_kind: result.error?.kind ?? null,
    error_message: result.error?.message ?? null,
    message_version: result.version,
  };
}
