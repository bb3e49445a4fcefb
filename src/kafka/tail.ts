/**
 * Tailing a topic from a point in time, as a group of its own that never commits: each partition
 * from its first message since (or where an earlier tail stopped), then live.
 *
 * @module
 */
import { ServiceError } from "../errors.ts";
import { listTopics } from "./admin.ts";
import type { KafkaClient } from "./client.ts";
import {
  batchMaker,
  type KafkaBatch,
  openConsumer,
  type RawMessage,
  type Reader,
} from "./consumer.ts";
import { kafkaFailure } from "./errors.ts";

/** Options of {@link startTail}. */
export interface TailOptions {
  readonly topic: string;
  /** Where to start (ms since the epoch): each partition at its first message since, else its end. */
  readonly sinceMs: number;
  /** Partitions to start at these offsets instead: where an earlier tail stopped. */
  readonly from?: ReadonlyMap<number, bigint>;
  /** Told each batch as it arrives; it should return quickly. */
  readonly onBatch: (batch: KafkaBatch) => void;
}

/** A running tail. */
export type Tail = Reader;

/**
 * Starts tailing the topic; resolves once every partition has its starting offset.
 *
 * @throws {ServiceError} When the cluster cannot be reached or the topic does not exist.
 */
export async function startTail(kafka: KafkaClient, options: TailOptions): Promise<Tail> {
  const { topic } = options;
  const member = openConsumer(kafka, {
    groupId: `monitor-watch-${crypto.randomUUID()}`,
    maxWaitTime: 250,
  });
  try {
    if (!(await listTopics(kafka)).includes(topic)) {
      throw new ServiceError(`Topic "${topic}" does not exist yet (monitor produce creates it)`);
    }
    const offsets = await member.consumer.listOffsets({
      topics: [topic],
      timestamp: BigInt(options.sinceMs),
    });
    const starts = (offsets.get(topic) ?? []).flatMap((offset, partition) => {
      const at = options.from?.get(partition) ?? offset;
      // -1: no message from then on; the library starts such a partition at its end.
      return at >= 0n ? [{ topic, partition, offset: at }] : [];
    });
    const stream = await member.consume({
      topics: [topic],
      ...(starts.length > 0 ? { mode: "manual", offsets: starts } : { mode: "latest" }),
    });
    const batchOf = batchMaker(member.consumer, topic);
    // One fetch's messages arrive together: hand them over as one batch per partition.
    let pending: RawMessage[] = [];
    const handOver = () => {
      for (const [partition, messages] of Map.groupBy(pending, (message) => message.partition)) {
        options.onBatch(batchOf(partition, messages));
      }
      pending = [];
    };
    stream.on("data", (message: RawMessage) => {
      if (pending.push(message) === 1) queueMicrotask(handOver);
    });
    return { crashed: member.crashed, stop: member.close };
  } catch (error) {
    await member.close();
    throw kafkaFailure(error);
  }
}
