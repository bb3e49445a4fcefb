/**
 * `monitor consume`: reads check results from Kafka in a consumer group and stores them in
 * PostgreSQL, committing offsets only after the rows are committed.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { Sql } from "../db/client.ts";
import { startPartitionMaintenance } from "../db/maintenance.ts";
import type { Retention } from "../db/partitions.ts";
import { setAsideOutsideRetention, storeBatch, type StoreOutcome } from "../db/results.ts";
import type { KafkaBatch } from "../kafka/batch.ts";
import type { KafkaClient } from "../kafka/client.ts";
import { decodeBatch } from "../kafka/codec.ts";
import { startConsumer } from "../kafka/consumer.ts";
import type { Logger } from "../log.ts";
import { type CliContext, prepare, SUMMARY_INTERVAL_MS, whenAborted } from "./context.ts";
import { withServices } from "./services.ts";
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
  await withServices(
    settings,
    { log, signal },
    (services) => runConsumer({ ...services, settings, log, signal }),
  );
}

/** What {@link runConsumer} needs. */
export interface ConsumerRun {
  readonly settings: Settings;
  readonly kafka: KafkaClient;
  readonly sql: Sql;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly signal: AbortSignal;
}

/**
 * Consumes until the signal is aborted.
 *
 * @throws {Error} When the consumer crashed beyond the client's own restarts.
 */
export async function runConsumer(run: ConsumerRun): Promise<void> {
  const { settings, kafka, sql, log, metrics } = run;
  const tally = { inserted: 0, duplicates: 0, rejected: 0 };
  const maintenance = await startPartitionMaintenance(sql, {
    aheadDays: settings.database.partitionsAheadDays,
    prune: settings.consume.prune,
    retention: settings.database.retention,
    log,
  });
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
      metrics.consumerLag.set({ partition: String(batch.partition) }, batch.lag);
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
    maintenance.stop();
    await consumer.stop();
    log.info("consumer stopped", tally);
  }
}

/**
 * Decodes one partition's batch and stores it; unreadable messages, results from outside the
 * retention and results PostgreSQL refuses are kept in `rejected_messages` rather than dropped.
 */
async function storeKafkaBatch(
  sql: Sql,
  batch: KafkaBatch,
  { log, retention }: { log: Logger; retention: Retention },
): Promise<StoreOutcome> {
  const messages = setAsideOutsideRetention(decodeBatch(batch), { now: new Date(), retention });
  const outcome = await storeBatch(sql, messages);
  log.debug("stored", {
    partition: batch.partition,
    offsets: `${batch.messages[0]?.offset}-${batch.messages.at(-1)?.offset}`,
    ...outcome,
  });
  if (outcome.rejected > 0) {
    log.warn("unreadable messages kept in rejected_messages", { count: outcome.rejected });
  }
  return outcome;
}
