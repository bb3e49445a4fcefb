/**
 * Consuming the topic in a consumer group, at least once: a batch's offsets are committed only
 * after its handler resolved (for `monitor consume`, after the database transaction committed).
 * A failing handler is retried until it succeeds or the consumer stops, while the library keeps
 * the member in its group with heartbeats of its own; what was not committed is delivered again,
 * so the handler must be idempotent.
 *
 * The library hands over one stream of messages; they wait in per-partition queues, and the
 * stream is paused while those hold a fetch's worth, so a slow handler stops the fetching. Each
 * partition's batches are handled one after the other, up to {@link CONCURRENT_PARTITIONS}
 * partitions at once, and their offsets committed together (see `commits.ts`).
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { Consumer, type MessagesStream } from "@platformatic/kafka";
import type { Logger } from "../log.ts";
import { backoffMs, settledWithin } from "./backoff.ts";
import { type KafkaBatch, messageOf, type RawMessage } from "./batch.ts";
import { type KafkaClient, logBrokerEvents, setupOf } from "./client.ts";
import { createCommitter } from "./commits.ts";
import { describeKafkaError, kafkaFailure } from "./errors.ts";
import { createPartitionQueues, type TakenBatch } from "./partition_queues.ts";
import { followHighWatermarks } from "./watermarks.ts";

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
  /** How long to wait for `handle` before logging and waiting again (it is not abandoned). */
  readonly handleTimeoutMs?: number;
  /** Most bytes fetched per partition at once (a batch); defaults to 1 MiB. */
  readonly batchBytes?: number;
  /** How long the broker may wait to fill a batch; defaults to 100 ms. */
  readonly lingerMs?: number;
  /**
   * Where a partition the group has committed nothing on starts: at its oldest message (the
   * default: nothing published before the first start is lost), or at its end (what was published
   * before is not this group's business).
   */
  readonly startAt?: "earliest" | "latest";
}

/** A running consumer. */
export interface RunningConsumer {
  /** Rejects if the consumer failed for good (an error the library does not retry). */
  readonly crashed: Promise<never>;
  /** Finishes the batch in hand (without committing it if it did not succeed) and leaves the group. */
  stop(): Promise<void>;
  /**
   * Whether every message before `ends` (the next offset of each partition, by partition) has
   * been handled: fetched, and its batch done with. False while a partition that has messages is
   * not assigned to this member.
   */
  handledUpTo(ends: readonly bigint[]): boolean;
}

/**
 * Partitions handled at once: writes of different partitions overlap (their sites differ, so
 * their rows never collide), PostgreSQL works on up to three batches while the next are decoded.
 */
export const CONCURRENT_PARTITIONS = 3;

/** How long a stopping consumer waits for the commit of a batch it stored. */
const COMMIT_GRACE_MS = 5_000;

/**
 * Joins the group and starts consuming. A new group starts from the oldest retained message, so
 * results published before the first `monitor consume` are not lost.
 *
 * @param options Client, topic, group and handler.
 * @returns The running consumer, once it is in the group.
 *
 * @example
 * ```ts ignore
 * import { startConsumer } from "./consumer.ts";
 * const consumer = await startConsumer({ kafka, topic, groupId, log, handle: writeBatch });
 * await consumer.stop();
 * ```
 */
export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const { topic, log } = options;
  const batchBytes = options.batchBytes ?? 1_048_576;
  // What one fetch may bring (and so, roughly, what waits in the queues at most).
  const fetchBytes = Math.max(10_485_760, batchBytes);
  const consumer = libraryConsumer(options, batchBytes, fetchBytes);
  let rejectCrash: (error: Error) => void = () => {};
  const crashed = new Promise<never>((_, reject) => rejectCrash = reject);
  crashed.catch(() => {}); // observed through the returned promise; never an unhandled rejection
  // The library retries without limit what can be retried: what reaches here is for good.
  consumer.on("error", (error: unknown) => rejectCrash(kafkaFailure(error)));
  logBrokerEvents(consumer, log);
  consumer.on("consumer:group:join", ({ generationId, assignments }) => {
    const partitions = assignments?.flatMap((a) => a.partitions).join(",");
    log.debug("kafka: joined the group", { groupId: options.groupId, generationId, partitions });
  });
  consumer.on("consumer:heartbeat:stalled", ({ lastError }) => {
    log.warn("kafka group heartbeats fail", {
      error: lastError === undefined ? undefined : describeKafkaError(lastError),
    });
  });

  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
  try {
    stream = await consumer.consume({
      topics: [topic],
      // The group's committed offsets; a partition without one starts at its oldest message.
      mode: "committed",
      fallbackMode: options.startAt ?? "earliest",
      autocommit: false,
    });
  } catch (error) {
    await consumer.close(true).catch(() => {});
    throw error;
  }
  const marks = followHighWatermarks(consumer, topic);
  const queues = createPartitionQueues(batchBytes);
  /** Partitions whose batch is being handled, and how. */
  const handling = new Map<number, Promise<void>>();
  let stopping = false;
  const committer = createCommitter(consumer, topic, { log, keepGoing: () => !stopping });
  const handleTimeoutMs = options.handleTimeoutMs ?? 30_000;

  const assigned = (partition: number) =>
    consumer.assignments?.some((a) => a.topic === topic && a.partitions.includes(partition)) ??
      false;

  /** Whether the stream is paused because the queues are full. */
  let full = false;
  let dispatching = false;

  /** Queues a message; stops the stream while the queues hold a fetch's worth. */
  function receive(message: RawMessage) {
    // Even a partition that a rebalance took away meanwhile: if it comes back before anything of
    // it was committed, the library reads it on from where it was, not from these messages.
    queues.add({
      partition: message.partition,
      offset: message.offset,
      leaderEpoch: message.leaderEpoch,
      message: messageOf(message),
    });
    // (A rebalance resumes the stream of its own accord: pause it again.)
    if (queues.bytes() >= fetchBytes && !stream.isPaused()) {
      full = true;
      stream.pause();
    }
    // A fetch's messages arrive together: batches are taken once they all are queued.
    if (!dispatching) {
      dispatching = true;
      queueMicrotask(dispatch);
    }
  }

  /** Hands batches to idle partitions, and lets the stream go on when there is room again. */
  function dispatch() {
    dispatching = false;
    if (stopping) return;
    for (const partition of queues.waiting()) {
      if (handling.size >= CONCURRENT_PARTITIONS) break;
      if (handling.has(partition)) continue;
      const taken = queues.take(partition)!;
      handling.set(
        partition,
        handleAndCommit(taken).catch(rejectCrash).finally(() => {
          handling.delete(partition);
          dispatch();
        }),
      );
    }
    if (full && queues.bytes() < fetchBytes) {
      full = false;
      stream.resume();
    }
  }

  async function handleAndCommit(taken: TakenBatch): Promise<void> {
    const { partition, messages, lastOffset } = taken;
    const batch = { topic, partition, messages, lag: marks.lagAfter(partition, lastOffset) };
    const stored = await handleUntilStored(batch, {
      ...options,
      handleTimeoutMs,
      retryDelayMs: options.retryDelayMs ?? backoffMs,
      keepGoing: () => !stopping,
    });
    // Not stored: delivered again later. Stored, but the partition moved to another member in a
    // rebalance meanwhile (which may store it as well): its offsets are that member's to commit.
    if (!stored || !assigned(partition)) return;
    // Committed soon, with the other partitions' offsets; the partition's next batch need not wait.
    committer.commit(partition, lastOffset + 1n, taken.leaderEpoch);
  }

  stream.on("data", receive);
  stream.on("error", (error: unknown) => rejectCrash(kafkaFailure(error)));
  log.info("consumer started", { topic, groupId: options.groupId });

  return {
    crashed,
    handledUpTo(ends) {
      if (stream.readableLength > 0) return false;
      const waiting = new Set(queues.waiting());
      return ends.every((end, partition) =>
        end === 0n || (
          assigned(partition) && !waiting.has(partition) && !handling.has(partition) &&
          (stream.offsetsToFetch.get(`${topic}:${partition}`) ?? -1n) >= end
        )
      );
    },
    async stop() {
      stopping = true;
      // The batches in hand end within handleTimeoutMs, stored or abandoned.
      await Promise.allSettled(handling.values());
      // What they stored is committed, unless the broker is away: closing the consumer calls
      // that commit off.
      await settledWithin(committer.settled(), COMMIT_GRACE_MS);
      marks.close();
      await stream.close().catch(() => {});
      await consumer.close(true).catch((error) => {
        log.warn("kafka consumer did not leave its group", { error: describeKafkaError(error) });
      });
      await committer.settled();
    },
  };
}

/**
 * How every consumer of ours is a member of its group.
 *
 * @param groupId The group.
 * @param sessionTimeoutMs How long the group waits for a silent member; defaults to 30 s.
 * @returns The library's group options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memberOptions } from "./consumer.ts";
 * assert.equal(memberOptions("g", 6_000).heartbeatInterval, 2_000);
 * ```
 */
export function memberOptions(groupId: string, sessionTimeoutMs = 30_000) {
  return {
    groupId,
    // Without limit: a broker away for a while is waited for, as the producer does.
    retries: Number.POSITIVE_INFINITY,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeoutMs / 3)),
    rebalanceTimeout: Math.max(60_000, sessionTimeoutMs),
    // Incremental rebalancing: a member joining or leaving moves only the partitions that must
    // move, and the others are never revoked (the classic protocol; the KIP-848 one needs broker
    // settings that Kafka 3.9 leaves off).
    protocols: [{ name: "cooperative-sticky", version: 3 }],
  };
}

function libraryConsumer(
  options: ConsumerOptions,
  batchBytes: number,
  fetchBytes: number,
): Consumer<Buffer, Buffer, Buffer, Buffer> {
  return new Consumer({
    ...setupOf(options.kafka).options,
    ...memberOptions(options.groupId, options.sessionTimeoutMs),
    // The broker answers a fetch once it has a full batch or the linger is over; the linger also
    // bounds how long stop() waits.
    minBytes: batchBytes,
    maxBytesPerPartition: batchBytes,
    maxBytes: fetchBytes,
    maxWaitTime: options.lingerMs ?? 100,
    // Keys and values as bytes, whatever they hold: the handler judges them.
    deserializers: RAW_BYTES,
  });
}

/** Keys, values and headers as the bytes they are, whatever they hold: their readers judge them. */
export const RAW_BYTES = { key: raw, value: raw, headerKey: raw, headerValue: raw };

function raw(data?: Buffer): Buffer | undefined {
  return data;
}

interface Attempts {
  readonly handle: (batch: KafkaBatch) => Promise<void>;
  readonly log: Logger;
  readonly handleTimeoutMs: number;
  readonly retryDelayMs: (failures: number) => number;
  /** False once the consumer stops. */
  readonly keepGoing: () => boolean;
}

/**
 * Calls `handle` until it succeeds, retrying failures with backoff. An attempt that outlives the
 * timeout is waited for again rather than started anew: a database that accepts connections but
 * never answers would otherwise pile them up.
 *
 * @returns True once stored; false when the consumer gave up on the batch.
 */
async function handleUntilStored(batch: KafkaBatch, attempts: Attempts): Promise<boolean> {
  const { log, handleTimeoutMs } = attempts;
  const where = {
    partition: batch.partition,
    offset: batch.messages[0]?.offset,
    messages: batch.messages.length,
  };
  let attempt: Promise<void> | undefined;
  let failures = 0;
  while (attempts.keepGoing()) {
    attempt ??= attempts.handle(batch);
    attempt.catch(() => {}); // observed below, or abandoned when the consumer stops
    const outcome = await settledWithin(attempt, handleTimeoutMs);
    if (outcome.status === "fulfilled") return true;
    if (outcome.status === "pending") {
      log.warn("batch not stored yet, still waiting", { ...where, waitedMs: handleTimeoutMs });
      continue;
    }
    attempt = undefined;
    const delayMs = attempts.retryDelayMs(++failures);
    log.warn("batch not stored, retrying", {
      ...where,
      error: (outcome.reason as Error).message,
      retryInMs: delayMs,
    });
    await pauseWhile(delayMs, attempts.keepGoing);
  }
  return false;
}

/** Waits `ms` in short slices, returning early once `keepGoing` turns false. */
async function pauseWhile(ms: number, keepGoing: () => boolean) {
  const endMs = performance.now() + ms;
  while (keepGoing() && performance.now() < endMs) {
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, Math.min(500, endMs - performance.now())))
    );
  }
}
