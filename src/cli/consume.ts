/**
 * `monitor consume`: reads check results from Kafka in a consumer group and stores them in
 * PostgreSQL, committing offsets only after the rows are committed.
 *
 * @module
 */
import { startPartitionMaintenance } from "../db/partitions.ts";
import { setAsideOutsideRetention, storeBatch } from "../db/results.ts";
import { decodeBatch } from "../kafka/codec.ts";
import { startConsumer } from "../kafka/consumer.ts";
import { type CliContext, SUMMARY_INTERVAL_MS, whenAborted } from "./context.ts";
import { type Services, withServices } from "./connect.ts";

/** Runs `monitor consume` until the context's signal is aborted. */
export async function consumeCommand(context: CliContext): Promise<void> {
  await withServices(context, runConsumer);
}

/**
 * Consumes until the signal is aborted (throws when the consumer crashed beyond its restarts);
 * what cannot be stored (unreadable, outside the retention, refused) goes to `rejected_messages`.
 */
export async function runConsumer(run: Services): Promise<void> {
  const { settings, sql, log, metrics } = run;
  const { retention } = settings.database;
  const tally = { inserted: 0, duplicates: 0, rejected: 0 };
  const maintenance = await startPartitionMaintenance(sql, {
    aheadDays: settings.database.partitionsAheadDays,
    prune: settings.consume.prune,
    retention,
    log,
  });
  const consumer = await startConsumer({
    kafka: run.kafka,
    topic: settings.kafka.topic,
    groupId: settings.kafka.groupId,
    sessionTimeoutMs: settings.kafka.sessionTimeoutMs,
    handleTimeoutMs: settings.database.writeTimeoutMs,
    batchBytes: settings.consume.batchBytes,
    lingerMs: settings.consume.lingerMs,
    log,
    handle: async (batch) => {
      const endTimer = metrics.batchDuration.startTimer();
      const messages = setAsideOutsideRetention(decodeBatch(batch), { now: new Date(), retention });
      const outcome = await storeBatch(sql, messages);
      endTimer();
      const { partition } = batch;
      const offsets = `${batch.messages[0]?.offset}-${batch.messages.at(-1)?.offset}`;
      log.debug("stored", { partition, offsets, ...outcome });
      if (outcome.rejected > 0) {
        log.warn("unreadable messages kept in rejected_messages", { count: outcome.rejected });
      }
      metrics.messagesConsumed.inc(batch.messages.length);
      metrics.rowsWritten.inc(outcome.inserted);
      metrics.rowsDuplicate.inc(outcome.duplicates);
      metrics.deadLettered.inc(outcome.rejected);
      metrics.consumerLag.set({ partition: String(partition) }, batch.lag);
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
