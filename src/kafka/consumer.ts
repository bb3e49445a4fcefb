/**
 * Consuming a topic in a consumer group, at least once: each fetch's messages are handed over as
 * one batch a partition, each partition's batches in order, and their offsets committed once their
 * handlers resolved; a failing handler is retried until it succeeds or the consumer stops. A
 * partition holds at most one batch behind the one in hand: a slow handler stops the fetching.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { Consumer, type ConsumerOptions as LibraryConsumerOptions } from "@platformatic/kafka";
import type { Logger } from "../log.ts";
import { backoffMs, settledWithin, sleep } from "../backoff.ts";
import { type KafkaBatch, messageOf, type RawMessage } from "./batch.ts";
import { type KafkaClient, logBrokerEvents, setupOf } from "./client.ts";
import { describeKafkaError, kafkaFailure } from "./errors.ts";
import { followHighWatermarks } from "./watermarks.ts";

/** A member of a consumer group, reading a topic. */
export interface GroupMember {
  readonly kafka: KafkaClient;
  readonly topic: string;
  /** The group whose members share the topic's partitions. */
  readonly groupId: string;
  /** How long the group waits for a silent member before reassigning its partitions. */
  readonly sessionTimeoutMs?: number;
  readonly log: Logger;
}

/** Options of {@link startConsumer}. */
export interface ConsumerOptions extends GroupMember {
  /** Handles one partition's batch; must be idempotent. Rejecting means "try again". */
  readonly handle: (batch: KafkaBatch) => Promise<void>;
  /** Wait before retry number `failures`; defaults to {@link backoffMs}. */
  readonly retryDelayMs?: (failures: number) => number;
  /** How long to wait for `handle` before logging and waiting again (it is not abandoned). */
  readonly handleTimeoutMs?: number;
  /** Most bytes fetched per partition at once (a batch); defaults to 1 MiB. */
  readonly batchBytes?: number;
  /** How long the broker may wait to fill a batch; defaults to 100 ms. */
  readonly lingerMs?: number;
  /** Where a partition the group has committed nothing on starts; defaults to its oldest message. */
  readonly startAt?: "earliest" | "latest";
}

/** A running consumer. */
export interface RunningConsumer {
  /** Rejects if the consumer failed for good (an error the library does not retry). */
  readonly crashed: Promise<never>;
  /** Finishes the batch in hand (without committing it if it did not succeed) and leaves the group. */
  stop(): Promise<void>;
  /** Whether every message before `ends` (each partition's next offset) was handled by this member. */
  handledUpTo(ends: readonly bigint[]): boolean;
}

/** How long a stopping consumer waits for the commit of a batch it stored. */
const COMMIT_GRACE_MS = 5_000;

/** Joins the group and starts consuming; resolves once in the group. */
export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const { topic, log } = options;
  const batchBytes = options.batchBytes ?? 1_048_576;
  const { consumer, crashed, fail, crash } = openConsumer(options.kafka, {
    ...memberOptions(options),
    // The broker answers once it has a full batch or the linger is over (which bounds stop()).
    minBytes: batchBytes,
    maxBytesPerPartition: batchBytes,
    maxBytes: Math.max(10_485_760, batchBytes),
    maxWaitTime: options.lingerMs ?? 100,
    // The next fetch waits until the last one's messages were taken: one fetch held at most.
    highWaterMark: 1,
  });
  consumer.on("consumer:group:join", ({ generationId, assignments }) => {
    const partitions = assignments?.flatMap((a) => a.partitions).join(",");
    log.debug("kafka: joined the group", { groupId: options.groupId, generationId, partitions });
  });
  consumer.on("consumer:heartbeat:stalled", ({ lastError }) => {
    log.warn("kafka group heartbeats fail", {
      error: lastError === undefined ? undefined : describeKafkaError(lastError),
    });
  });

  const stream = await consumer.consume({
    topics: [topic],
    mode: "committed",
    fallbackMode: options.startAt ?? "earliest",
    autocommit: false,
  }).catch(async (error) => {
    await consumer.close(true).catch(() => {});
    throw error;
  });
  const marks = followHighWatermarks(consumer, topic);
  const stopping = new AbortController();
  const { signal } = stopping;
  // Per partition: its batches in hand, each stored then committed before the next one starts.
  const chains = new Map<number, Promise<void>>();
  let wake = () => {};
  // Read, not flowing: what is not taken stays in the stream, which fetches again once it is empty.
  stream.on("readable", () => wake());
  signal.addEventListener("abort", () => wake());
  stream.on("error", fail);

  const assigned = (partition: number) =>
    !!consumer.assignments?.some((a) => a.topic === topic && a.partitions.includes(partition));

  /** What the stream holds (one fetch at most), at least one message; none once stopping. */
  async function take(): Promise<RawMessage[]> {
    for (;;) {
      const taken: RawMessage[] = [];
      let message: RawMessage | null;
      while ((message = stream.read()) !== null) taken.push(message);
      if (taken.length > 0 || signal.aborted) return taken;
      await new Promise<void>((resolve) => wake = resolve);
    }
  }

  async function run(): Promise<void> {
    while (!signal.aborted) {
      const taken = await take();
      if (taken.length === 0) break;
      // Each partition goes on as soon as its own batch is stored, not with the slowest one; the
      // next fetch is taken once each partition has at most this batch left (the backpressure).
      await Promise.all(
        [...Map.groupBy(taken, (message) => message.partition)].map(([partition, messages]) => {
          const previous = chains.get(partition);
          const lag = marks.lagAfter(partition, messages.at(-1)!.offset);
          const batch = { topic, partition, messages: messages.map(messageOf), lag };
          const chain: Promise<void> = (async () => {
            await previous;
            // What was not stored is delivered again later.
            if (await handleUntilStored(batch, options, signal)) await commitSoon(messages.at(-1)!);
          })().catch(crash).finally(() => {
            if (chains.get(partition) === chain) chains.delete(partition);
          });
          chains.set(partition, chain);
          return previous;
        }),
      );
    }
    await Promise.all(chains.values());
  }

  // Stored batches' last messages, committed together, one commit request at a time.
  const toCommit = new Map<number, RawMessage>();
  let committing = Promise.resolve();
  function commitSoon(last: RawMessage): Promise<void> {
    toCommit.set(last.partition, last);
    return committing = committing.then(() => {
      const lasts = [...toCommit.values()];
      toCommit.clear();
      return commit(lasts);
    });
  }

  /** Commits the next offsets of the partitions still assigned; a failure is logged. */
  async function commit(lasts: readonly RawMessage[]): Promise<void> {
    // Only while settled in the group: the library answers a commit refused for a rebalance by
    // rejoining, a second, needless rebalance.
    while (lasts.length > 0 && !consumer.isActive() && !signal.aborted) await sleep(20, signal);
    // A partition that moved to another member meanwhile is that member's to commit.
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
    while (
      (await settledWithin(committing, COMMIT_GRACE_MS)).status === "pending" && !signal.aborted
    );
  }

  const running = run().catch(crash);
  log.info("consumer started", { topic, groupId: options.groupId });

  return {
    crashed,
    handledUpTo(ends) {
      if (stream.readableLength > 0) return false;
      return ends.every((end, partition) =>
        end === 0n || (
          assigned(partition) && !chains.has(partition) &&
          (stream.offsetsToFetch.get(`${topic}:${partition}`) ?? -1n) >= end
        )
      );
    },
    async stop() {
      stopping.abort();
      // The batches in hand end within handleTimeoutMs (those behind them at once); each commit
      // request within COMMIT_GRACE_MS, the ones that come after taking what waits together.
      await running;
      marks.close();
      await leaveGroup(consumer, stream, log);
    },
  };
}

/** How every consumer of ours is a member of its group. */
export function memberOptions({ groupId, sessionTimeoutMs = 30_000 }: GroupMember) {
  return {
    groupId,
    // A broker away for a while is waited for, as the producer does.
    retries: Number.POSITIVE_INFINITY,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeoutMs / 3)),
    rebalanceTimeout: Math.max(60_000, sessionTimeoutMs),
    // Incremental: a member joining or leaving moves only the partitions that must move (the
    // KIP-848 protocol needs broker settings that Kafka 3.9 leaves off).
    protocols: [{ name: "cooperative-sticky", version: 3 }],
  };
}

type RawConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;

/**
 * A consumer of the library on the cluster, its broker events logged; keys, values and headers
 * stay the bytes they are (the library's default), for their readers to judge. `crashed` rejects
 * on a failure for good: `fail()` takes the library's (told by {@link kafkaFailure}), `crash()` a
 * bug of ours, as it is.
 */
export function openConsumer(
  kafka: KafkaClient,
  options: Partial<LibraryConsumerOptions<Buffer, Buffer, Buffer, Buffer>> & { groupId: string },
) {
  const { options: base, log } = setupOf(kafka);
  const consumer: RawConsumer = new Consumer({ ...base, ...options });
  const { promise: crashed, reject: crash } = Promise.withResolvers<never>();
  crashed.catch(() => {}); // observed by the caller
  // The library retries without limit what can be retried: what reaches here is for good.
  const fail = (error: unknown) => crash(kafkaFailure(error));
  consumer.on("error", fail);
  logBrokerEvents(consumer, log);
  return { consumer, crashed, fail, crash };
}

/** Closes the stream, then leaves the group so that the others take its partitions over at once. */
export async function leaveGroup(
  consumer: RawConsumer,
  stream: { close(): Promise<void> },
  log: Logger,
): Promise<void> {
  await stream.close().catch(() => {});
  await consumer.close(true).catch((error) => {
    log.warn("kafka consumer did not leave its group", { error: describeKafkaError(error) });
  });
}

/**
 * Calls `handle` until it succeeds, with backoff between failures. An attempt that outlives the
 * timeout is waited for again rather than started anew: a database that accepts connections but
 * never answers would otherwise pile them up.
 *
 * @returns True once stored; false when the consumer stopped first.
 */
async function handleUntilStored(
  batch: KafkaBatch,
  options: ConsumerOptions,
  signal: AbortSignal,
): Promise<boolean> {
  const { log, handleTimeoutMs = 30_000, retryDelayMs = backoffMs } = options;
  const { partition, messages } = batch;
  const where = { partition, offset: messages[0]?.offset, messages: messages.length };
  let attempt: Promise<void> | undefined;
  let failures = 0;
  while (!signal.aborted) {
    attempt ??= options.handle(batch);
    attempt.catch(() => {}); // observed below, or abandoned when the consumer stops
    const outcome = await settledWithin(attempt, handleTimeoutMs);
    if (outcome.status === "fulfilled") return true;
    if (outcome.status === "pending") {
      log.warn("batch not stored yet, still waiting", { ...where, waitedMs: handleTimeoutMs });
      continue;
    }
    attempt = undefined;
    const delayMs = retryDelayMs(++failures);
    log.warn("batch not stored, retrying", {
      ...where,
      // A handler may reject with anything: undefined has no message.
      error: outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason),
      retryInMs: delayMs,
    });
    await sleep(delayMs, signal);
  }
  return false;
}
