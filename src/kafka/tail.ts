/**
 * Tailing a topic from a point in time, as a reader that is no member of anyone's group: a
 * consumer group of its own (never the writer's, never committing) starts each partition at its
 * first message at or after the time (or where an earlier tail stopped), then follows it live.
 *
 * @module
 */
import { type KafkaBatch, type KafkaMessage, messageOf, type RawMessage } from "./batch.ts";
import type { KafkaClient } from "./client.ts";
import { openConsumer } from "./consumer.ts";
import { kafkaFailure } from "./errors.ts";
import { listTopics } from "./admin.ts";
import { followHighWatermarks } from "./watermarks.ts";

/** Options of {@link startTail}. */
export interface TailOptions {
  readonly topic: string;
  /**
   * Where to start, in milliseconds since the epoch: each partition at its first message from
   * then on, or at its end when it has none.
   */
  readonly sinceMs: number;
  /**
   * Partitions to start at these offsets instead: where an earlier tail of the topic stopped, so
   * that a tail started again after a failure reads nothing twice.
   */
  readonly from?: ReadonlyMap<number, bigint>;
  /** Told each batch as it arrives; it should return quickly. */
  readonly onBatch: (batch: KafkaBatch) => void;
}

/** A running tail. */
export interface Tail {
  /** Rejects when the consumer failed; the tail is then of no more use (stop it). */
  readonly crashed: Promise<never>;
  /** Leaves the topic and disconnects; never rejects. */
  stop(): Promise<void>;
}

/**
 * Starts tailing the topic; resolves once every partition has its starting offset.
 *
 * @throws {Error} When the cluster cannot be reached or the topic does not exist (nothing is left
 *   connected then).
 */
export async function startTail(kafka: KafkaClient, options: TailOptions): Promise<Tail> {
  const { topic } = options;
  const topics = await listTopics(kafka).catch((error) => {
    throw kafkaFailure(error);
  });
  if (!topics.includes(topic)) {
    throw new Error(`Topic "${topic}" does not exist yet (monitor produce creates it)`);
  }
  const { consumer, crashed, fail } = openConsumer(kafka, {
    groupId: `monitor-watch-${crypto.randomUUID()}`,
    maxWaitTime: 250,
  });
  const stop = () => consumer.close(true).catch(() => {});
  try {
    const offsets = await consumer.listOffsets({
      topics: [topic],
      timestamp: BigInt(options.sinceMs),
    });
    const starts = (offsets.get(topic) ?? []).flatMap((offset, partition) => {
      const at = options.from?.get(partition) ?? offset;
      // -1: no message from then on; the library starts such a partition at its end.
      return at >= 0n ? [{ topic, partition, offset: at }] : [];
    });
    const stream = await consumer.consume({
      topics: [topic],
      autocommit: false,
      ...(starts.length > 0 ? { mode: "manual", offsets: starts } : { mode: "latest" }),
    });
    const marks = followHighWatermarks(consumer, topic);
    const pending = new Map<number, { messages: KafkaMessage[]; lastOffset: bigint }>();
    // One fetch's messages arrive together: hand them over as one batch per partition.
    const handOver = () => {
      for (const [partition, { messages, lastOffset }] of pending) {
        options.onBatch({ topic, partition, messages, lag: marks.lagAfter(partition, lastOffset) });
      }
      pending.clear();
    };
    stream.on("data", (message: RawMessage) => {
      if (pending.size === 0) queueMicrotask(handOver);
      let gathered = pending.get(message.partition);
      if (gathered === undefined) {
        pending.set(message.partition, gathered = { messages: [], lastOffset: message.offset });
      }
      gathered.messages.push(messageOf(message));
      gathered.lastOffset = message.offset;
    });
    stream.on("error", fail);
    return {
      crashed,
      async stop() {
        marks.close();
        await stream.close().catch(() => {});
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw kafkaFailure(error);
  }
}
