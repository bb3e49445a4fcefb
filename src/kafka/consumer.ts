/**
 * Consuming the topic in a consumer group, at least once, in one loop: take what the library
 * fetched, hand each partition's messages over, all partitions at once, and commit their offsets
 * once their handlers resolved (for `monitor consume`, once the database transaction committed).
 * A failing handler is retried until it succeeds or the consumer stops, while the library keeps
 * the member in its group with heartbeats of its own; what was not committed is delivered again,
 * so the handler must be idempotent. The library fetches the next batch while one is handled, and
 * no further: a slow handler stops the fetching.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { Consumer, type MessagesStream } from "@platformatic/kafka";
import type { Logger } from "../log.ts";
import { backoffMs, settledWithin } from "./backoff.ts";
import { type KafkaBatch, messageOf, type RawMessage } from "./batch.ts";
import { type KafkaClient, logBrokerEvents, setupOf } from "./client.ts";
import { describeKafkaError, kafkaFailure } from "./errors.ts";
import { followHighWatermarks } from "./watermarks.ts";

/** Options of {@link startConsumer}. */
export interface ConsumerOptions {
  readonly kafka: KafkaClient;
  readonly topic: string;
  readonly groupId: string;
  /** How long the group waits for a silent member before reassigning its partitions. */
  readonly sessionTimeoutMs?: number;
  readonly log: Logger;
  /**
   * Handles one partition's batch; must be idempotent. Rejecting means "try again". Batches of
   * different partitions are handled at once.
   */
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
  const consumer = libraryConsumer(options, batchBytes);
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
  let stopping = false;
  /** Partitions of the batch being handled. */
  let inHand = new Set<number>();
  /** Ends the wait for messages: some arrived, or the consumer stops. */
  let wake = () => {};
  // Read, not flowing: what is not taken stays in the stream, which fetches again once it is empty.
  stream.on("readable", () => wake());
  stream.on("error", (error: unknown) => rejectCrash(kafkaFailure(error)));

  const assigned = (partition: number) =>
    consumer.assignments?.some((a) => a.topic === topic && a.partitions.includes(partition)) ??
      false;

  /** What the stream holds (one fetch at most), at least one message; none once stopping. */
  async function take(): Promise<RawMessage[]> {
    for (;;) {
      const taken: RawMessage[] = [];
      let message: RawMessage | null;
      while ((message = stream.read()) !== null) taken.push(message);
      if (taken.length > 0 || stopping) return taken;
      await new Promise<void>((resolve) => wake = resolve);
    }
  }

  async function run(): Promise<void> {
    const attempts = {
      ...options,
      handleTimeoutMs: options.handleTimeoutMs ?? 30_000,
      retryDelayMs: options.retryDelayMs ?? backoffMs,
      keepGoing: () => !stopping,
    };
    while (!stopping) {
      const taken = await take();
      if (taken.length === 0) break;
      // One batch a partition, all handled at once: their sites differ, so their rows never collide.
      const partitions = [...Map.groupBy(taken, (message) => message.partition)];
      inHand = new Set(partitions.map(([partition]) => partition));
      const stored = await Promise.all(partitions.map(([partition, messages]) => {
        const lag = marks.lagAfter(partition, messages.at(-1)!.offset);
        return handleUntilStored(
          { topic, partition, messages: messages.map(messageOf), lag },
          attempts,
        );
      }));
      inHand = new Set();
      // What was not stored is delivered again later.
      await commit(partitions.flatMap(([, messages], i) => stored[i] ? [messages.at(-1)!] : []));
    }
  }

  /**
   * Commits the next offsets of the partitions still assigned. One that moved to another member
   * in a rebalance meanwhile (which may store its messages as well) is that member's to commit.
   * A commit is sent only while the member is settled in its group: the library answers one
   * refused for a rebalance by rejoining, a second, needless rebalance.
   */
  async function commit(lasts: readonly RawMessage[]): Promise<void> {
    if (lasts.length === 0) return;
    while (!consumer.isActive() && !stopping) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const offsets = lasts.filter((last) => assigned(last.partition)).map((last) => ({
      topic,
      partition: last.partition,
      offset: last.offset + 1n,
      leaderEpoch: last.leaderEpoch,
    }));
    if (offsets.length === 0 || !consumer.isActive()) return;
    const committing = consumer.commit({ offsets }).catch((error) => {
      log.warn("kafka commit failed", {
        partitions: offsets.map((o) => o.partition).join(","),
        error: describeKafkaError(error),
      });
    });
    // A broker that is away is waited for; by a stopping consumer only a little (closing the
    // consumer calls the commit off).
    while ((await settledWithin(committing, COMMIT_GRACE_MS)).status === "pending" && !stopping);
  }

  const running = run().catch(rejectCrash);
  log.info("consumer started", { topic, groupId: options.groupId });

  return {
    crashed,
    handledUpTo(ends) {
      if (stream.readableLength > 0) return false;
      return ends.every((end, partition) =>
        end === 0n || (
          assigned(partition) && !inHand.has(partition) &&
          (stream.offsetsToFetch.get(`${topic}:${partition}`) ?? -1n) >= end
        )
      );
    },
    async stop() {
      stopping = true;
      wake();
      // The batch in hand ends within handleTimeoutMs, stored or abandoned, and its commit
      // within COMMIT_GRACE_MS.
      await running;
      marks.close();
      await stream.close().catch(() => {});
      await consumer.close(true).catch((error) => {
        log.warn("kafka consumer did not leave its group", { error: describeKafkaError(error) });
      });
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
): Consumer<Buffer, Buffer, Buffer, Buffer> {
  return new Consumer({
    ...setupOf(options.kafka).options,
    ...memberOptions(options.groupId, options.sessionTimeoutMs),
    // The broker answers a fetch once it has a full batch or the linger is over; the linger also
    // bounds how long stop() waits.
    minBytes: batchBytes,
    maxBytesPerPartition: batchBytes,
    maxBytes: Math.max(10_485_760, batchBytes),
    maxWaitTime: options.lingerMs ?? 100,
    // The next fetch waits until what the last one brought was taken: one fetch is held at most.
    highWaterMark: 1,
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
      // A handler may reject with anything: undefined has no message.
      error: outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason),
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
