/**
 * Tailing a topic from a point in time, as a reader that is no member of anyone's group: a
 * consumer group of its own (never the writer's, never committing) rewinds each partition to its
 * first message at or after the time, then follows it live.
 *
 * @module
 */
import type { KafkaBatch } from "./batch.ts";
import { batchOf } from "./batch.ts";
import { type KafkaClient, kafkajsOf } from "./client.ts";

/** Options of {@link startTail}. */
export interface TailOptions {
  readonly topic: string;
  /**
   * Where to start, in milliseconds since the epoch: each partition at its first message from
   * then on, or at its end when it has none.
   */
  readonly sinceMs: number;
  /** Told each batch as it arrives; it should return quickly. */
  readonly onBatch: (batch: KafkaBatch) => void;
}

/** A running tail. */
export interface Tail {
  /** Rejects when the consumer crashed; the tail is then of no more use (stop it). */
  readonly crashed: Promise<never>;
  /** Leaves the topic and disconnects; never rejects. */
  stop(): Promise<void>;
}

/**
 * Starts tailing the topic.
 *
 * @param kafka The cluster.
 * @param options Topic, start time and what to tell.
 * @returns The running tail, once every partition has been rewound.
 * @throws {Error} When the cluster cannot be reached or the topic does not exist (nothing is left
 *   connected then).
 *
 * @example
 * ```ts ignore
 * import { startTail } from "./tail.ts";
 * const tail = await startTail(kafka, {
 *   topic: "checks",
 *   sinceMs: Date.now() - 900_000,
 *   onBatch: (batch) => console.log(batch.partition, batch.messages.length),
 * });
 * await tail.stop();
 * ```
 */
export async function startTail(kafka: KafkaClient, options: TailOptions): Promise<Tail> {
  const { topic } = options;
  const consumer = kafkajsOf(kafka).consumer({
    groupId: `monitor-watch-${crypto.randomUUID()}`,
    maxWaitTimeInMs: 250,
  });
  const stop = () => consumer.disconnect().catch(() => {});
  try {
    const starts = await offsetsSince(kafka, topic, options.sinceMs);
    const crashed = new Promise<never>((_, reject) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
    });
    crashed.catch(() => {}); // observed by the caller; never an unhandled rejection
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        options.onBatch(batchOf(batch));
        return Promise.resolve();
      },
    });
    for (const { partition, offset } of starts) {
      if (offset !== undefined) consumer.seek({ topic, partition, offset });
    }
    return { crashed, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Each partition's first offset at or after `sinceMs`; `undefined` where there is none. */
async function offsetsSince(
  kafka: KafkaClient,
  topic: string,
  sinceMs: number,
): Promise<{ partition: number; offset: string | undefined }[]> {
  const admin = kafkajsOf(kafka).admin();
  try {
    await admin.connect();
    if (!(await admin.listTopics()).includes(topic)) {
      throw new Error(`Topic "${topic}" does not exist yet (monitor produce creates it)`);
    }
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs);
    return starts.map(({ partition, offset }) => ({
      partition,
      offset: offset === "-1" ? undefined : offset,
    }));
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
