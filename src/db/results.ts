/**
 * Storing consumed messages: check results into `checks` (with their site versions, `sites` and
 * rollups), unreadable messages into `rejected_messages`, idempotently. PostgreSQL is the last
 * validator: a row it refuses is kept with the unreadable messages and holds up no other.
 *
 * @module
 */
import type { CheckResult } from "../check/result.ts";
import { printable } from "../text.ts";
import type { Sql } from "./client.ts";
import { ensurePartitionsFor, outsideRetention, type Retention } from "./partitions.ts";

/** Where a consumed message came from: its place on the topic and its bytes. */
export interface MessageSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
}

/** A message kept in `rejected_messages`, and why. */
export type RejectedMessage = MessageSource & { readonly reason: string };

/** A message whose value is a check result. */
export type ResultMessage = MessageSource & { readonly result: CheckResult };

/** A consumed message: a check result to store, or one kept aside with the reason. */
export type ConsumedMessage = ResultMessage | RejectedMessage;

/**
 * The messages, in order, with the results the database does not keep ({@link outsideRetention})
 * turned into rejected messages, rather than given a partition.
 */
export function setAsideOutsideRetention(
  messages: readonly ConsumedMessage[],
  options: { readonly now: Date; readonly retention: Retention },
): ConsumedMessage[] {
  return messages.map((message) => {
    if (!("result" in message)) return message;
    const reason = outsideRetention(message.result.checkedAt, options.now, options.retention);
    return reason === undefined ? message : { ...sourceOf(message), reason };
  });
}

/** What a call to {@link storeBatch} did. */
export interface StoreOutcome {
  /** New rows in `checks`. */
  readonly inserted: number;
  /** Results already stored (a redelivery, or the same message twice). */
  readonly duplicates: number;
  /** New rows in `rejected_messages`: unreadable messages and results PostgreSQL refused. */
  readonly rejected: number;
}

/**
 * Stores a batch in one statement; when PostgreSQL refuses a row (a data error, not an outage),
 * the batch is halved until the refused rows stand alone and they go to `rejected_messages` with
 * the SQLSTATE and message. Errors of availability are thrown, for the caller to try again.
 * Results already stored (same `checkId` and `checkedAt`) are skipped and not counted twice.
 */
export async function storeBatch(
  sql: Sql,
  messages: readonly ConsumedMessage[],
): Promise<StoreOutcome> {
  const results = messages.filter((m): m is ResultMessage => "result" in m);
  const unreadable = messages.filter((m): m is RejectedMessage => "reason" in m);
  const { inserted, refused } = await storeWhatFits(sql, results);
  const rejected = await insertRejected(sql, [...unreadable, ...refused]);
  return { inserted, duplicates: results.length - inserted - refused.length, rejected };
}

/** Stores every result PostgreSQL accepts, a half at a time once it refused one. */
async function storeWhatFits(
  sql: Sql,
  messages: readonly ResultMessage[],
): Promise<{ inserted: number; refused: RejectedMessage[] }> {
  try {
    return {
      inserted: await insertWithPartitions(sql, messages.map((m) => m.result)),
      refused: [],
    };
  } catch (error) {
    if (!refusesData(error)) throw error;
    const [message] = messages;
    if (messages.length === 1 && message !== undefined) {
      return { inserted: 0, refused: [{ ...sourceOf(message), reason: refusal(error) }] };
    }
    const middle = Math.ceil(messages.length / 2);
    const first = await storeWhatFits(sql, messages.slice(0, middle));
    const second = await storeWhatFits(sql, messages.slice(middle));
    return {
      inserted: first.inserted + second.inserted,
      refused: [...first.refused, ...second.refused],
    };
  }
}

/** Inserts the results, first creating a partition for a day that has none. */
async function insertWithPartitions(sql: Sql, results: readonly CheckResult[]): Promise<number> {
  try {
    return await insertAgainOnConflict(sql, results);
  } catch (error) {
    if (!isMissingPartition(error)) throw error;
    await ensurePartitionsFor(sql, [...new Set(results.map((r) => r.checkedAt.slice(0, 10)))]);
    return await insertAgainOnConflict(sql, results);
  }
}

/**
 * How two writers adding to the same rollups (a partition moved in a rebalance) undo one's
 * statement: a deadlock, or a unique violation when both inserted the same new hourly row. The
 * statement goes again and then adds to the other's row.
 */
const UNDONE_BY_ANOTHER_WRITER = new Set(["40P01", "23505"]);
const ATTEMPTS = 5;

/** Inserts the results, again when another writer undid the statement. */
async function insertAgainOnConflict(sql: Sql, results: readonly CheckResult[]): Promise<number> {
  for (let attempt = 1;; attempt++) {
    try {
      return await insertChecks(sql, results);
    } catch (error) {
      const { code } = error as PostgresError;
      if (!UNDONE_BY_ANOTHER_WRITER.has(code as string) || attempt === ATTEMPTS) throw error;
    }
  }
}

/** A PostgreSQL error, as postgres.js reports it. */
type PostgresError = {
  code?: unknown;
  routine?: unknown;
  constraint_name?: unknown;
  message?: unknown;
};

/** SQLSTATE classes of a row that cannot be stored: cardinality, data, integrity, limits. */
const DATA_ERROR = /^(?:2[123]|54)[0-9A-Z]{3}$/;

/** Whether PostgreSQL refused the data (true) rather than being unavailable or missing a partition. */
export function refusesData(error: unknown): boolean {
  const code = (error as PostgresError | null)?.code;
  return typeof code === "string" && DATA_ERROR.test(code) && !isMissingPartition(error);
}

/**
 * "No partition of relation … found for row": a 23514 like a refused CHECK, told apart by the
 * function that raised it (the message may be translated) or by naming no constraint.
 */
function isMissingPartition(error: unknown): boolean {
  const { code, routine, constraint_name } = (error ?? {}) as PostgresError;
  return code === "23514" && (routine === "ExecFindPartition" || constraint_name === undefined);
}

function refusal(error: unknown): string {
  const { code, message } = error as PostgresError;
  return `PostgreSQL refused the row (SQLSTATE ${code}): ${message}`;
}

function sourceOf({ topic, partition, offset, key, value }: MessageSource): MessageSource {
  return { topic, partition, offset, key, value };
}

/**
 * Inserts the checks not stored yet with their site versions, upserts their sites and adds the
 * inserted checks (only those, so a redelivery adds nothing) to the hourly and daily rollups, in
 * one statement. A site takes the name, URL and pattern of its latest check and keeps its earliest
 * check's time. An hourly rollup gets the batch's response times as a list of buckets, updated in
 * place or inserted: one INSERT … ON CONFLICT DO UPDATE would merge whole histograms (1.14 times
 * the CPU a row).
 */
async function insertChecks(sql: Sql, results: readonly CheckResult[]) {
  if (results.length === 0) return 0;
  const column = <T>(pick: (r: CheckResult) => T) => results.map(pick);
  // As text: postgres.js sends boolean arrays well only with fetch_types, off behind a pooler.
  const booleans = (pick: (r: CheckResult) => boolean | null) =>
    column((r) => pick(r) === null ? null : pick(r) ? "t" : "f");
  const [{ inserted }] = await sql<[{ inserted: number }]>`
    WITH input AS (
      SELECT *, monitor_site_version_id(site_id, site_name, url, pattern) AS site_version_id
      FROM unnest(
        ${column((r) => r.checkId)}::uuid[],
        ${column((r) => r.siteId)}::text[],
        ${column((r) => r.siteName)}::text[],
        ${column((r) => r.url)}::text[],
        ${column((r) => r.pattern)}::text[],
        ${column((r) => r.checkedAt)}::timestamptz[],
        ${column((r) => r.timeToHeadersMs)}::float8[],
        ${column((r) => r.responseTimeMs)}::float8[],
        ${column((r) => r.statusCode)}::int4[],
        ${booleans((r) => r.patternMatched)}::text[]::bool[],
        ${column((r) => r.certExpiresAt)}::timestamptz[],
        ${booleans((r) => r.up)}::text[]::bool[],
        ${column((r) => r.error?.kind ?? null)}::text[],
        ${column((r) => r.error?.message ?? null)}::text[],
        ${column((r) => r.version)}::int2[],
        ${column((r) => r.dnsMs)}::float8[],
        ${column((r) => r.connectMs)}::float8[],
        ${column((r) => r.tlsMs)}::float8[],
        ${column((r) => r.firstByteMs)}::float8[],
        ${column((r) => r.transferMs)}::float8[],
        ${column((r) => r.remoteAddress)}::inet[],
        ${column((r) => r.httpVersion)}::text[],
        ${column((r) => r.tlsVersion)}::text[],
        ${column((r) => r.region)}::text[],
        ${column((r) => r.checker)}::text[]
      ) AS t(check_id, site_id, site_name, url, pattern, checked_at, time_to_headers_ms,
             response_time_ms, status_code, pattern_matched, cert_expires_at, up, error_kind,
             error_message, message_version, dns_ms, connect_ms, tls_ms, first_byte_ms,
             transfer_ms, remote_address, http_version, tls_version, region, checker)
    ),
    versions AS (
      INSERT INTO site_versions (version_id, site_id, name, url, pattern)
      SELECT DISTINCT ON (site_version_id) site_version_id, site_id, site_name, url, pattern
      FROM input
      ON CONFLICT (version_id) DO NOTHING
    ),
    latest AS (
      SELECT DISTINCT ON (site_id) site_id, site_name AS name, url, pattern, checked_at,
             min(checked_at) OVER (PARTITION BY site_id) AS first_checked_at
      FROM input
      ORDER BY site_id, checked_at DESC
    ),
    inserted AS (
      INSERT INTO checks (check_id, site_id, site_version_id, checked_at, time_to_headers_ms,
                          response_time_ms, status_code, pattern_matched, cert_expires_at, up,
                          error_kind, error_message, message_version, dns_ms, connect_ms, tls_ms,
                          first_byte_ms, transfer_ms, remote_address, http_version, tls_version,
                          region, checker)
      SELECT check_id, site_id, site_version_id, checked_at, time_to_headers_ms,
             response_time_ms, status_code, pattern_matched, cert_expires_at, up, error_kind,
             error_message, message_version, dns_ms, connect_ms, tls_ms, first_byte_ms,
             transfer_ms, remote_address, http_version, tls_version, region, checker
      FROM input
      ON CONFLICT (check_id, checked_at) DO NOTHING
      RETURNING site_id, region, checked_at, response_time_ms, up, dns_ms, connect_ms, tls_ms,
                first_byte_ms, transfer_ms
    ),
    deltas AS (
      SELECT site_id, date_trunc('hour', checked_at, 'UTC') AS hour, region, count(*) AS checks,
             count(*) FILTER (WHERE NOT up) AS failures, count(response_time_ms) AS responses,
             coalesce(sum(response_time_ms), 0) AS response_time_ms_sum,
             array_agg(monitor_response_bucket(response_time_ms))
               FILTER (WHERE response_time_ms IS NOT NULL) AS buckets,
             count(dns_ms) AS dns_ms_count, coalesce(sum(dns_ms), 0) AS dns_ms_sum,
             count(connect_ms) AS connect_ms_count, coalesce(sum(connect_ms), 0) AS connect_ms_sum,
             count(tls_ms) AS tls_ms_count, coalesce(sum(tls_ms), 0) AS tls_ms_sum,
             count(first_byte_ms) AS first_byte_ms_count,
             coalesce(sum(first_byte_ms), 0) AS first_byte_ms_sum,
             count(transfer_ms) AS transfer_ms_count,
             coalesce(sum(transfer_ms), 0) AS transfer_ms_sum
      FROM inserted
      GROUP BY 1, 2, 3
    ),
    site_rows AS (
      INSERT INTO sites AS s (site_id, name, url, pattern, first_checked_at, changed_at)
      SELECT site_id, name, url, pattern, first_checked_at, checked_at FROM latest
      ON CONFLICT (site_id) DO UPDATE
        SET first_checked_at = least(s.first_checked_at, excluded.first_checked_at),
            name = CASE WHEN excluded.changed_at > s.changed_at THEN excluded.name ELSE s.name END,
            url = CASE WHEN excluded.changed_at > s.changed_at THEN excluded.url ELSE s.url END,
            pattern = CASE WHEN excluded.changed_at > s.changed_at
                           THEN excluded.pattern ELSE s.pattern END,
            changed_at = CASE WHEN excluded.changed_at > s.changed_at
                                   AND (s.name, s.url, s.pattern)
                                       IS DISTINCT FROM (excluded.name, excluded.url, excluded.pattern)
                              THEN excluded.changed_at ELSE s.changed_at END
        WHERE excluded.first_checked_at < s.first_checked_at
           OR (excluded.changed_at > s.changed_at
               AND (s.name, s.url, s.pattern)
                   IS DISTINCT FROM (excluded.name, excluded.url, excluded.pattern))
    ),
    rollups_updated AS (
      UPDATE check_rollups_hourly AS r
      SET checks = r.checks + d.checks,
          failures = r.failures + d.failures,
          responses = r.responses + d.responses,
          response_time_ms_sum = r.response_time_ms_sum + d.response_time_ms_sum,
          response_time_histogram = monitor_histogram_add_buckets(r.response_time_histogram, d.buckets),
          dns_ms_count = r.dns_ms_count + d.dns_ms_count,
          dns_ms_sum = r.dns_ms_sum + d.dns_ms_sum,
          connect_ms_count = r.connect_ms_count + d.connect_ms_count,
          connect_ms_sum = r.connect_ms_sum + d.connect_ms_sum,
          tls_ms_count = r.tls_ms_count + d.tls_ms_count,
          tls_ms_sum = r.tls_ms_sum + d.tls_ms_sum,
          first_byte_ms_count = r.first_byte_ms_count + d.first_byte_ms_count,
          first_byte_ms_sum = r.first_byte_ms_sum + d.first_byte_ms_sum,
          transfer_ms_count = r.transfer_ms_count + d.transfer_ms_count,
          transfer_ms_sum = r.transfer_ms_sum + d.transfer_ms_sum
      FROM deltas AS d
      WHERE r.site_id = d.site_id AND r.hour = d.hour AND r.region = d.region
      RETURNING r.site_id, r.hour, r.region
    ),
    rollups_added AS (
      INSERT INTO check_rollups_hourly (site_id, hour, region, checks, failures, responses,
                                        response_time_ms_sum, response_time_histogram,
                                        dns_ms_count, dns_ms_sum, connect_ms_count, connect_ms_sum,
                                        tls_ms_count, tls_ms_sum, first_byte_ms_count,
                                        first_byte_ms_sum, transfer_ms_count, transfer_ms_sum)
      SELECT site_id, hour, region, checks, failures, responses, response_time_ms_sum,
             monitor_histogram_add_buckets('{}', buckets), dns_ms_count, dns_ms_sum,
             connect_ms_count, connect_ms_sum, tls_ms_count, tls_ms_sum, first_byte_ms_count,
             first_byte_ms_sum, transfer_ms_count, transfer_ms_sum
      FROM deltas AS d
      WHERE NOT EXISTS (
        SELECT FROM rollups_updated AS u
        WHERE u.site_id = d.site_id AND u.hour = d.hour AND u.region = d.region
      )
    ),
    days AS (
      INSERT INTO check_rollups_daily AS r (site_id, day, checks, failures)
      SELECT site_id, date_trunc('day', hour, 'UTC'), sum(checks), sum(failures)
      FROM deltas
      GROUP BY 1, 2
      ON CONFLICT (site_id, day) DO UPDATE
        SET checks = r.checks + excluded.checks, failures = r.failures + excluded.failures
    )
    SELECT count(*)::int AS inserted FROM inserted`;
  return inserted;
}

function shortened(reason: string): string {
  return reason.length <= 1_000 ? reason : `${reason.slice(0, 999)}…`;
}

/** 6 parameters a row, 65 535 a statement. */
const REJECTED_PER_STATEMENT = 5_000;

async function insertRejected(sql: Sql, rejected: readonly RejectedMessage[]): Promise<number> {
  let kept = 0;
  for (let start = 0; start < rejected.length; start += REJECTED_PER_STATEMENT) {
    const rows = rejected.slice(start, start + REJECTED_PER_STATEMENT).map((m) => ({
      topic: m.topic,
      partition: m.partition,
      kafka_offset: m.offset,
      message_key: m.key,
      message: m.value,
      // A reason may quote the message: no NUL, and no second copy of a huge one.
      reason: shortened(printable(m.reason)),
    }));
    const written = await sql`
      INSERT INTO rejected_messages ${sql(rows)}
      ON CONFLICT (topic, partition, kafka_offset) DO NOTHING`;
    kept += written.count;
  }
  return kept;
}
