/**
 * `monitor consume`: reads check results from Kafka in a consumer group and stores them in
 * PostgreSQL, committing offsets only after the rows are committed.
 *
 * @module
 */
import type { Batch, Kafka } from "kafkajs";
import type { Settings } from "../config/settings.ts";
import type { Sql } from "../db/client.ts";
import { type ConsumedMessage, storeBatch, type StoreOutcome } from "../db/results.ts";
import { ensurePartitions, outsideRetention, prune, type Retention } from "../db/partitions.ts";
import { decodeCheckResult } from "../kafka/codec.ts";
import { startConsumer } from "../kafka/consumer.ts";
import type { Logger } from "../log.ts";
import { type CliContext, prepare, SUMMARY_INTERVAL_MS, whenAborted } from "./context.ts";
import { openDatabase, openKafka, openWhenAvailable, requireMigrated } from "./connect.ts";
import { observe } from "./observe.ts";
import type { Metrics } from "../metrics.ts";

/**
 * Runs `monitor consume` until the context's signal is aborted.
 *
 * @param context Environment, signal and output.
 * @throws {ServiceError} When Kafka or PostgreSQL cannot be used, or the schema is not migrated.
 */
export async function consumeCommand(context: CliContext): Promise<void> {
  const { settings, log } = prepare(context);
  const { signal } = context;
  // A long-running consumer waits for the database and the broker instead of exiting.
  const sql = await openWhenAvailable(() => openDatabase(settings), { log, signal });
  if (sql === undefined) return;
  try {
    await requireMigrated(sql);
    const kafka = await openWhenAvailable(() => openKafka(settings, log), { log, signal });
    if (kafka === undefined) return;
    const { metrics, close } = observe(settings, { kafka, sql }, log);
    try {
      await runConsumer({ settings, kafka, sql, log, metrics, signal });
    } finally {
      await close();
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** What {@link runConsumer} needs. */
export interface ConsumerRun {
  readonly settings: Settings;
  readonly kafka: Kafka;
  readonly sql: Sql;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly signal: AbortSignal;
}

/**
 * Consumes until the signal is aborted.
 *
 * @throws {Error} When the consumer crashed beyond kafkajs's own restarts.
 */
export async function runConsumer(run: ConsumerRun): Promise<void> {
  const { settings, kafka, sql, log, metrics } = run;
  const tally = { inserted: 0, duplicates: 0, rejected: 0 };
  await maintainPartitions(run);
  const maintenance = setInterval(() => maintainPartitions(run), MAINTENANCE_INTERVAL_MS);
  const consumer = await startConsumer({
    kafka,
    topic: settings.kafka.topic,
    groupId: settings.kafka.groupId,
    sessionTimeoutMs: settings.kafka.sessionTimeoutMs,
    handleTimeoutMs: settings.database.writeTimeoutMs,
    batchBytes: settings.consume.batchBytes,
    lingerMs: settings.consume.lingerMs,
    log,
    handle: async (batch) => {
      const endTimer = metrics.batchDuration.startTimer();
      const outcome = await storeKafkaBatch(sql, batch, {
        log,
        retention: settings.database.retention,
      });
      endTimer();
      metrics.messagesConsumed.inc(batch.messages.length);
      metrics.rowsWritten.inc(outcome.inserted);
      metrics.rowsDuplicate.inc(outcome.duplicates);
      metrics.deadLettered.inc(outcome.rejected);
      metrics.consumerLag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
      // The first rows are news (a new user waits for them); after that, a summary a minute.
      if (tally.inserted === 0 && outcome.inserted > 0) {
        log.info("first results stored", { ...outcome });
      }
      tally.inserted += outcome.inserted;
      tally.duplicates += outcome.duplicates;
      tally.rejected += outcome.rejected;
    },
  });
  const summary = setInterval(() => log.info("summary", tally), SUMMARY_INTERVAL_MS);
  try {
    await Promise.race([whenAborted(run.signal), consumer.crashed]);
  } finally {
    clearInterval(summary);
    clearInterval(maintenance);
    await consumer.stop();
    log.info("consumer stopped", tally);
  }
}

const MAINTENANCE_INTERVAL_MS = 3_600_000;

/**
 * Creates the coming days' partitions and, with CONSUME_PRUNE, drops the expired ones. A failure
 * is logged and tried again an hour later: the partitions made days ahead bridge the gap.
 */
async function maintainPartitions({ settings, sql, log }: ConsumerRun): Promise<void> {
  const now = new Date();
  try {
    const created = await ensurePartitions(sql, now, settings.database.partitionsAheadDays);
    if (created.length > 0) log.info("partitions created", { partitions: created.join(", ") });
    if (settings.consume.prune) {
      const dropped = await prune(sql, now, settings.database.retention);
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

/**
 * Decodes one partition's batch and stores it; unreadable messages, results from outside the
 * retention and results PostgreSQL refuses are kept in `rejected_messages` rather than dropped.
 */
async function storeKafkaBatch(
  sql: Sql,
  batch: Batch,
  { log, retention }: { log: Logger; retention: Retention },
): Promise<StoreOutcome> {
  const now = new Date();
  const messages = batch.messages.map((message): ConsumedMessage => {
    const source = {
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
    };
    const decoded = decodeCheckResult(message.value);
    if (!decoded.ok) return { ...source, reason: decoded.reason };
    const refused = outsideRetention(decoded.result.checkedAt, now, retention);
    return refused === undefined
      ? { ...source, result: decoded.result }
      : { ...source, reason: refused };
  });
  const outcome = await storeBatch(sql, messages);
  log.debug("stored", {
    partition: batch.partition,
    offsets: `${batch.firstOffset()}-${batch.lastOffset()}`,
    ...outcome,
  });
  if (outcome.rejected > 0) {
    log.warn("unreadable messages kept in rejected_messages", { count: outcome.rejected });
  }
  return outcome;
}
