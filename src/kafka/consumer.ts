/**
 * Consuming the topic in a consumer group, at least once: a batch's offsets are committed only
 * after its handler resolved (for `monitor consume`, after the database transaction committed).
 * A failing handler is retried, with heartbeats, until it succeeds or the consumer stops; what was
 * not committed is delivered again, so the handler must be idempotent.
 *
 * @module
 */
import type { Batch } from "kafkajs";
import type { Logger } from "../log.ts";
import { backoffMs } from "./backoff.ts";
import { batchOf, type KafkaBatch } from "./batch.ts";
import { type KafkaClient, kafkajsOf } from "./client.ts";

/** Options of {@link startConsumer}. */
export interface ConsumerOptions {
  readonly kafka: KafkaClient;
  readonly topic: string;
  readonly groupId: string;
  /** How long the group waits for a silent member before reassigning its partitions. */
  readonly sessionTimeoutMs?: number;
  readonly log: Logger;
  /** Handles one partition's batch; must be idempotent. Rejecting means "try again". */
  readonly handle: (batch: KafkaBatch) => Promise<void>;
  /** Wait before retry number `failures`; defaults to exponential backoff from 0.5 s to 30 s. */
  readonly retryDelayMs?: (failures: number) => number;
  /** How long to wait for `handle` before logging and heartbeating (it is not abandoned). */
  readonly handleTimeoutMs?: number;
  /** Most bytes fetched per partition at once (a batch); defaults to 1 MiB. */
  readonly batchBytes?: number;
  /** How long the broker may wait to fill a batch; defaults to 100 ms. */
  readonly lingerMs?: number;
}

/** A running consumer. */
export interface RunningConsumer {
  /** Rejects if the consumer crashed and the client will not restart it. */
  readonly crashed: Promise<never>;
  /** Finishes the batch in hand (without committing it if it did not succeed) and leaves the group. */
  stop(): Promise<void>;
}

/**
 * Joins the group and starts consuming. A new group starts from the oldest retained message, so
 * results published before the first `monitor consume` are not lost.
 *
 * @param options Client, topic, group and handler.
 * @returns The running consumer.
 *
 * @example
 * ```ts ignore
 * import { startConsumer } from "./consumer.ts";
 * const consumer = await startConsumer({ kafka, topic, groupId, log, handle: writeBatch });
 * await consumer.stop();
 * ```
 */
export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const { kafka, topic, groupId, log, handle } = options;
  const retryDelayMs = options.retryDelayMs ?? backoffMs;
  const handleTimeoutMs = options.handleTimeoutMs ?? 30_000;
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const batchBytes = options.batchBytes ?? 1_048_576;
  const consumer = kafkajsOf(kafka).consumer({
    groupId,
    sessionTimeout,
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
    // The broker answers a fetch once it has a full batch or the linger is over; the linger also
    // bounds how long stop() waits.
    minBytes: batchBytes,
    maxBytesPerPartition: batchBytes,
    maxBytes: Math.max(10_485_760, batchBytes),
    maxWaitTimeInMs: options.lingerMs ?? 100,
  });

  let rejectCrash: (error: Error) => void = () => {};
  const crashed = new Promise<never>((_, reject) => rejectCrash = reject);
  crashed.catch(() => {}); // observed through the returned promise; never an unhandled rejection
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) rejectCrash(payload.error);
  });

  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    // Writes of different partitions overlap (their sites differ, so their rows never collide):
    // PostgreSQL works on up to three batches of a fetch while the next ones are decoded. (kafkajs
    // fetches again only once every batch of the last fetch is handled.)
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      if (batch.isEmpty()) return;
      const stored = await handleUntilStored(batch, {
        handle,
        log,
        handleTimeoutMs,
        retryDelayMs,
        heartbeat,
        keepGoing: () => isRunning() && !isStale(),
      });
      if (!stored) return; // not committed: delivered again later
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      await consumer.commitOffsets([{
        topic: batch.topic,
        partition: batch.partition,
        offset: next,
      }]);
      resolveOffset(batch.lastOffset());
      await heartbeat();
    },
  });
  log.info("consumer started", { topic, groupId });

  return {
    crashed,
    async stop() {
      await consumer.disconnect();
    },
  };
}

interface Attempts {
  readonly handle: (batch: KafkaBatch) => Promise<void>;
  readonly log: Logger;
  readonly handleTimeoutMs: number;
  readonly retryDelayMs: (failures: number) => number;
  readonly heartbeat: () => Promise<void>;
  /** False once the consumer stops or the batch's partition moved to another member. */
  readonly keepGoing: () => boolean;
}

/**
 * Calls `handle` until it succeeds, retrying failures with backoff and heartbeats. An attempt that
 * outlives the timeout is waited for again rather than started anew: a database that accepts
 * connections but never answers would otherwise pile them up.
 *
 * @returns True once stored; false when the consumer gave up on the batch.
 */
async function handleUntilStored(batch: Batch, attempts: Attempts): Promise<boolean> {
  const { log, handleTimeoutMs } = attempts;
  const handed = batchOf(batch);
  const where = {
    partition: batch.partition,
    offset: batch.firstOffset(),
    messages: batch.messages.length,
  };
  let attempt: Promise<void> | undefined;
  let failures = 0;
  while (attempts.keepGoing()) {
    attempt ??= attempts.handle(handed);
    attempt.catch(() => {}); // observed below, or abandoned when the consumer stops
    const outcome = await settledWithin(attempt, handleTimeoutMs);
    if (outcome.status === "fulfilled") return true;
    if (outcome.status === "pending") {
      log.warn("batch not stored yet, still waiting", { ...where, waitedMs: handleTimeoutMs });
      await attempts.heartbeat().catch(() => {});
      continue;
    }
    attempt = undefined;
    const delayMs = attempts.retryDelayMs(++failures);
    log.warn("batch not stored, retrying", {
      ...where,
      error: (outcome.reason as Error).message,
      retryInMs: delayMs,
    });
    await pauseWhile(delayMs, attempts.keepGoing, attempts.heartbeat);
  }
  return false;
}

/** How a promise stands after at most `ms`. */
async function settledWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<PromiseSettledResult<T> | { status: "pending" }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<{ status: "pending" }>((resolve) => {
    timer = setTimeout(() => resolve({ status: "pending" }), ms);
  });
  const settled = promise.then(
    (value): PromiseSettledResult<T> => ({ status: "fulfilled", value }),
    (reason: unknown): PromiseSettledResult<T> => ({ status: "rejected", reason }),
  );
  try {
    return await Promise.race([settled, pending]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits `ms` in short slices, heartbeating, and returns early once `keepGoing` turns false. */
async function pauseWhile(ms: number, keepGoing: () => boolean, heartbeat: () => Promise<void>) {
  const endMs = performance.now() + ms;
  while (keepGoing() && performance.now() < endMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, endMs - performance.now())));
    await heartbeat().catch(() => {});
  }
}
