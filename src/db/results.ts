/**
 * Storing consumed messages idempotently: check results into `checks` (with site versions, `sites`
 * and rollups); unreadable ones, and rows PostgreSQL refuses, into `rejected_messages`.
 *
 * @module
 */
import type { CheckResult } from "../check/result.ts";
import { printable } from "../text.ts";
import type { Sql } from "./client.ts";
import { ensurePartitionsFor, type Retention } from "./partitions.ts";

/** A consumed message, with its place and bytes: a check result, or one kept aside and why. */
export type ConsumedMessage =
  & Readonly<{ topic: string; partition: number; offset: string }>
  & Readonly<{ key: Uint8Array | null; value: Uint8Array | null }>
  & ({ readonly result: CheckResult } | { readonly reason: string });
/** A message whose value is a check result. */
export type ResultMessage = Extract<ConsumedMessage, { readonly result: CheckResult }>;
/** A message kept in `rejected_messages`, and why. */
export type RejectedMessage = Extract<ConsumedMessage, { readonly reason: string }>;

const DAY_MS = 86_400_000;

/**
 * The messages, in order, with results older than the rollups are kept or over a day ahead set
 * aside: a hostile batch could otherwise ask for thousands of partitions.
 */
export function setAsideOutsideRetention(
  messages: readonly ConsumedMessage[],
  { now, retention }: { readonly now: Date; readonly retention: Retention },
): ConsumedMessage[] {
  return messages.map((message) => {
    if (!("result" in message)) return message;
    const { checkedAt } = message.result;
    const ageMs = now.getTime() - Date.parse(checkedAt);
    const reason = ageMs > retention.rollupsDays * DAY_MS
      ? `checkedAt ${checkedAt} is older than rollups are kept (RETAIN_ROLLUPS_DAYS=${retention.rollupsDays})`
      : ageMs < -DAY_MS
      ? `checkedAt ${checkedAt} is more than a day after this consumer's clock (${now.toISOString()})`
      : undefined;
    return reason === undefined ? message : { ...sourceOf(message), reason };
  });
}

/**
 * Stores a batch in one statement and counts new rows in `checks`, results stored already (same
 * `checkId` and `checkedAt`) and new rows in `rejected_messages`: unreadable messages, and rows
 * PostgreSQL refuses (a data error), with SQLSTATE and message. Errors of availability are thrown.
 */
export async function storeBatch(
  sql: Sql,
  messages: readonly ConsumedMessage[],
): Promise<{ inserted: number; duplicates: number; rejected: number }> {
  const results = messages.filter((m): m is ResultMessage => "result" in m);
  const unreadable = messages.filter((m): m is RejectedMessage => "reason" in m);
  const { inserted, refused } = await storeWhatFits(sql, results);
  const rejected = await insertRejected(sql, [...unreadable, ...refused]);
  return { inserted, duplicates: results.length - inserted - refused.length, rejected };
}

/** Stores every result PostgreSQL accepts, halving the batch until the refused ones stand alone. */
async function storeWhatFits(
  sql: Sql,
  messages: readonly ResultMessage[],
): Promise<{ inserted: number; refused: RejectedMessage[] }> {
  try {
    return { inserted: await insertRetrying(sql, messages.map((m) => m.result)), refused: [] };
  } catch (error) {
    if (!refusesData(error)) throw error;
    if (messages.length === 1) {
      const { code, message } = error as PostgresError;
      const reason = `PostgreSQL refused the row (SQLSTATE ${code}): ${message}`;
      return { inserted: 0, refused: [{ ...sourceOf(messages[0]!), reason }] };
    }
    const middle = Math.ceil(messages.length / 2);
    const first = await storeWhatFits(sql, messages.slice(0, middle));
    const second = await storeWhatFits(sql, messages.slice(middle));
    const refused = [...first.refused, ...second.refused];
    return { inserted: first.inserted + second.inserted, refused };
  }
}

/**
 * How two writers adding to the same rollups (a partition moved in a rebalance) undo one's
 * statement: a deadlock, or both inserting the same new hourly row. Again, it adds to the other's.
 */
const UNDONE_BY_ANOTHER_WRITER = new Set(["40P01", "23505"]);
const ATTEMPTS = 5;

/** Inserts the results, again once it made a missing partition or another writer undid it. */
async function insertRetrying(sql: Sql, results: readonly CheckResult[]): Promise<number> {
  for (let attempt = 1;; attempt++) {
    try {
      return await insertChecks(sql, results);
    } catch (error) {
      const missingPartition = isMissingPartition(error);
      const undone = UNDONE_BY_ANOTHER_WRITER.has((error as PostgresError).code as string);
      if (attempt === ATTEMPTS || !(missingPartition || undone)) throw error;
      if (missingPartition) {
        await ensurePartitionsFor(sql, [...new Set(results.map((r) => r.checkedAt.slice(0, 10)))]);
      }
    }
  }
}

type PostgresError = Partial<Record<"code" | "routine" | "constraint_name" | "message", unknown>>;

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

function sourceOf({ topic, partition, offset, key, value }: ConsumedMessage) {
  return { topic, partition, offset, key, value };
}

// Column lists insertChecks() repeats, as constant text (postgres.js: `sql.unsafe` in `sql`).
const PHASES = ["dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "transfer_ms"];
/** The columns of `checks` stored as the result has them. */
const MEASURED = `checked_at, time_to_headers_ms, response_time_ms, status_code, pattern_matched,
  cert_expires_at, up, error_kind, error_message, message_version, ${PHASES.join(", ")},
  remote_address, http_version, tls_version, region, checker`;
const PHASE_SUMS = PHASES
  .map((p) => `count(${p}) AS ${p}_count, coalesce(sum(${p}), 0) AS ${p}_sum`)
  .join(", ");
/** The columns of an hourly rollup that a batch adds to, all but its histogram. */
const ROLLUP_SUMS = ["checks", "failures", "responses", "response_time_ms_sum"]
  .concat(PHASES.flatMap((p) => [`${p}_count`, `${p}_sum`]));

/**
 * In one statement: inserts the checks not stored yet with their site versions, upserts their
 * sites, and adds the inserted checks only (a redelivery adds nothing) to the hourly and daily
 * rollups. An hourly rollup is updated in place or inserted with the batch's buckets: one INSERT …
 * ON CONFLICT DO UPDATE would merge whole histograms (1.14 times the CPU a row).
 */
async function insertChecks(sql: Sql, results: readonly CheckResult[]) {
  if (results.length === 0) return 0;
  const column = <T>(pick: (r: CheckResult) => T) => results.map(pick);
  // As text: postgres.js sends boolean arrays well only with fetch_types, off behind a pooler.
  const booleans = (pick: (r: CheckResult) => boolean | null) =>
    column((r) => pick(r) === null ? null : pick(r) ? "t" : "f");
  const measured = sql.unsafe(MEASURED);
  const sums = sql.unsafe(ROLLUP_SUMS.join(", "));
  // A site's latest check in the batch is later than its own, and with another name, URL or pattern.
  const later = sql`excluded.changed_at > s.changed_at`;
  const changed = sql`${later}
    AND (s.name, s.url, s.pattern) IS DISTINCT FROM (excluded.name, excluded.url, excluded.pattern)`;
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
      ) AS t(check_id, site_id, site_name, url, pattern, ${measured})
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
      INSERT INTO checks (check_id, site_id, site_version_id, ${measured})
      SELECT check_id, site_id, site_version_id, ${measured}
      FROM input
      ON CONFLICT (check_id, checked_at) DO NOTHING
      RETURNING site_id, region, checked_at, response_time_ms, up, ${sql.unsafe(PHASES.join(", "))}
    ),
    deltas AS (
      SELECT site_id, date_trunc('hour', checked_at, 'UTC') AS hour, region, count(*) AS checks,
             count(*) FILTER (WHERE NOT up) AS failures, count(response_time_ms) AS responses,
             coalesce(sum(response_time_ms), 0) AS response_time_ms_sum,
             array_agg(monitor_response_bucket(response_time_ms))
               FILTER (WHERE response_time_ms IS NOT NULL) AS buckets, ${sql.unsafe(PHASE_SUMS)}
      FROM inserted
      GROUP BY 1, 2, 3
    ),
    site_rows AS (
      INSERT INTO sites AS s (site_id, name, url, pattern, first_checked_at, changed_at)
      SELECT site_id, name, url, pattern, first_checked_at, checked_at FROM latest
      ON CONFLICT (site_id) DO UPDATE
        SET first_checked_at = least(s.first_checked_at, excluded.first_checked_at),
            name = CASE WHEN ${later} THEN excluded.name ELSE s.name END,
            url = CASE WHEN ${later} THEN excluded.url ELSE s.url END,
            pattern = CASE WHEN ${later} THEN excluded.pattern ELSE s.pattern END,
            changed_at = CASE WHEN ${changed} THEN excluded.changed_at ELSE s.changed_at END
        WHERE excluded.first_checked_at < s.first_checked_at OR (${changed})
    ),
    rollups_updated AS (
      UPDATE check_rollups_hourly AS r
      SET response_time_histogram = monitor_histogram_add_buckets(r.response_time_histogram, d.buckets),
          ${sql.unsafe(ROLLUP_SUMS.map((c) => `${c} = r.${c} + d.${c}`).join(", "))}
      FROM deltas AS d
      WHERE r.site_id = d.site_id AND r.hour = d.hour AND r.region = d.region
      RETURNING r.site_id, r.hour, r.region
    ),
    rollups_added AS (
      INSERT INTO check_rollups_hourly (site_id, hour, region, response_time_histogram, ${sums})
      SELECT site_id, hour, region, monitor_histogram_add_buckets('{}', buckets), ${sums}
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
