/**
 * Consuming a topic in a group, at least once: each partition's batches in order, each committed
 * once handled (retried until then), at most one waiting: a slow handler stops the fetching.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import {
  type ConsumeOptions,
  Consumer,
  type ConsumerOptions as LibraryConsumerOptions,
  type Message,
  type MessagesStream,
} from "@platformatic/kafka";
import type { Logger } from "../log.ts";
import { backoffMs, settledWithin, sleep } from "../backoff.ts";
import { type KafkaClient, logBrokerEvents, setupOf } from "./client.ts";
import { describeKafkaError, kafkaFailure } from "./errors.ts";

/** One message as read from the topic; its offset as a decimal string (offsets are 64-bit). */
export interface KafkaMessage {
  readonly offset: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
}

/** One partition's messages from one fetch, in offset order, never empty, and the lag after them. */
export interface KafkaBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  readonly lag: number;
}

/** A message as the library hands it over. */
export type RawMessage = Message<Buffer | undefined, Buffer | undefined, Buffer, Buffer>;

/** A member of a consumer group; `sessionTimeoutMs`: how long the group waits for a silent one. */
export interface GroupMember {
  readonly kafka: KafkaClient;
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs?: number;
  readonly log: Logger;
}

/** Options of {@link startConsumer}. */
export interface ConsumerOptions extends GroupMember {
  /** Handles one partition's batch; must be idempotent. Rejecting means "try again". */
  readonly handle: (batch: KafkaBatch) => Promise<void>;
  readonly retryDelayMs?: (failures: number) => number;
  /** How long to wait for `handle` before logging and waiting again (it is not abandoned). */
  readonly handleTimeoutMs?: number;
  /** Most bytes fetched per partition at once (a batch); defaults to 1 MiB. */
  readonly batchBytes?: number;
  /** How long the broker may wait to fill a batch; defaults to 100 ms. */
  readonly lingerMs?: number;
  /** Where a partition without a commit of the group starts; defaults to its oldest message. */
  readonly startAt?: "earliest" | "latest";
}

/** A member reading a topic: `crashed` rejects if it failed for good; `stop()` never rejects. */
export interface Reader {
  readonly crashed: Promise<never>;
  stop(): Promise<void>;
}

/** A running consumer: `stop()` first finishes the batch in hand (uncommitted if not stored). */
export interface RunningConsumer extends Reader {
  /** Whether every message before `ends` (each partition's next offset) was handled by this member. */
  handledUpTo(ends: readonly bigint[]): boolean;
}

/** How long a stopping consumer waits for a commit request. */
const COMMIT_GRACE_MS = 5_000;

/** Joins the group and starts consuming; resolves once in the group. */
export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const { topic, log } = options;
  const batchBytes = options.batchBytes ?? 1_048_576;
  const member = openConsumer(options.kafka, {
    ...memberOptions(options),
    // The broker answers once it has a full batch or the linger is over (which bounds stop()).
    minBytes: batchBytes,
    maxBytesPerPartition: batchBytes,
    maxBytes: Math.max(10_485_760, batchBytes),
    maxWaitTime: options.lingerMs ?? 100,
    // The next fetch waits until the last one's messages were taken: one fetch held at most.
    highWaterMark: 1,
  });
  const { consumer, crash } = member;
  consumer.on("consumer:group:join", ({ generationId, assignments }) => {
    const partitions = assignments?.flatMap((a) => a.partitions).join(",");
    log.debug("kafka: joined the group", { groupId: options.groupId, generationId, partitions });
  });
  consumer.on("consumer:heartbeat:stalled", ({ lastError }) => {
    log.warn("kafka group heartbeats fail", {
      error: lastError === undefined ? undefined : describeKafkaError(lastError),
    });
  });

  const stream = await member.consume({
    topics: [topic],
    mode: "committed",
    fallbackMode: options.startAt ?? "earliest",
  });
  const batchOf = batchMaker(consumer, topic);
  const stopping = new AbortController();
  const { signal } = stopping;
  // Per partition: its batches in hand, each stored then committed before the next starts.
  const chains = new Map<number, Promise<void>>();
  // Read, not flowing: what is not taken stays in the stream, which fetches again once it is empty.
  let wake = () => {};
  stream.on("readable", () => wake());
  signal.addEventListener("abort", () => wake());

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
          const batch = batchOf(partition, messages);
          const chain: Promise<void> = (async () => {
            await previous;
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

  // Stored batches' last messages, committed together, one request at a time; failures logged.
  const toCommit = new Map<number, RawMessage>();
  let committing = Promise.resolve();
  function commitSoon(last: RawMessage): Promise<void> {
    toCommit.set(last.partition, last);
    return committing = committing.then(commit);
  }

  async function commit(): Promise<void> {
    // Only while settled in the group: the library answers a commit refused for a rebalance by
    // rejoining, a second, needless rebalance.
    while (toCommit.size > 0 && !consumer.isActive() && !signal.aborted) await sleep(20, signal);
    const lasts = [...toCommit.values()];
    toCommit.clear();
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
    // A broker that is away is waited for; by a stopping consumer only a little.
    while (
      (await settledWithin(committing, COMMIT_GRACE_MS)).status === "pending" && !signal.aborted
    );
  }

  const running = run().catch(crash);
  log.info("consumer started", { topic, groupId: options.groupId });

  return {
    crashed: member.crashed,
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
      await running;
      await member.close();
    },
  };
}

/**
 * Calls `handle` until it succeeds (true) or the consumer stops (false); an attempt outliving the
 * timeout is waited for, not started anew (a database that never answers would pile them up).
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

/** How every consumer of ours is a member of its group. */
export function memberOptions({ groupId, sessionTimeoutMs = 30_000 }: GroupMember) {
  return {
    groupId,
    // A broker away for a while is waited for, as the producer does.
    retries: Number.POSITIVE_INFINITY,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeoutMs / 3)),
    rebalanceTimeout: Math.max(60_000, sessionTimeoutMs),
    // Incremental (the KIP-848 protocol needs broker settings that Kafka 3.9 leaves off).
    protocols: [{ name: "cooperative-sticky", version: 3 }],
  };
}

type RawStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/** A consumer of the library, its broker events logged; `crashed` rejects on a failure for good. */
export function openConsumer(
  kafka: KafkaClient,
  options: Partial<LibraryConsumerOptions<Buffer, Buffer, Buffer, Buffer>> & { groupId: string },
) {
  const { options: base, log } = setupOf(kafka);
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({ ...base, ...options });
  const { promise: crashed, reject: crash } = Promise.withResolvers<never>();
  crashed.catch(() => {}); // observed by the caller
  const fail = (error: unknown) => crash(kafkaFailure(error));
  consumer.on("error", fail);
  logBrokerEvents(consumer, log);
  let stream: RawStream | undefined;
  return {
    consumer,
    crashed,
    crash,
    /** Joins the group and streams its partitions; a ServiceError (closing all) if it cannot. */
    async consume(consume: ConsumeOptions<Buffer, Buffer, Buffer, Buffer>): Promise<RawStream> {
      stream = await consumer.consume({ autocommit: false, ...consume }).catch(async (error) => {
        await consumer.close(true).catch(() => {});
        throw kafkaFailure(error);
      });
      stream.on("error", fail);
      return stream;
    },
    /** Closes the stream, then leaves the group so that the others take its partitions over at once. */
    async close(): Promise<void> {
      await stream?.close().catch(() => {});
      await consumer.close(true).catch((error) => {
        log.warn("kafka consumer did not leave its group", { error: describeKafkaError(error) });
      });
    },
  };
}

/**
 * Our batch of a partition's messages (bytes not copied) and its lag, by high watermarks asked at
 * most once a second (under Deno, subscribing to the library's diagnostics channel leaks fetches).
 */
export function batchMaker(
  consumer: Pick<Consumer, "listOffsets" | "closed">,
  topic: string,
): (partition: number, messages: readonly RawMessage[]) => KafkaBatch {
  let marks: readonly bigint[] = [];
  let askedMs = -Infinity;
  let asking = false;
  function ask() {
    asking = true;
    askedMs = performance.now();
    consumer.listOffsets({ topics: [topic] }).then(
      (offsets) => marks = offsets.get(topic) ?? marks,
      () => {}, // the lag is a figure to show; the next batch asks again
    ).finally(() => asking = false);
  }
  ask(); // so that the first batches have a figure
  return (partition, messages) => {
    if (!consumer.closed && !asking && performance.now() - askedMs >= 1_000) ask();
    const mark = marks[partition];
    const last = messages.at(-1)!.offset;
    return {
      topic,
      partition,
      messages: messages.map(({ offset, key, value }) => ({
        offset: offset.toString(),
        key: key ?? null,
        value: value ?? null,
      })),
      lag: mark === undefined ? 0 : Math.max(0, Number(mark - last - 1n)),
    };
  };
}
