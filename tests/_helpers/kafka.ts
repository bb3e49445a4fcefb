/**
 * For tests and benchmarks only: sending messages as they are (bytes or text, valid or not, to
 * the partition of one's choice), counting what a topic was ever sent, and asking whether a group
 * has committed everything. The program itself publishes through `src/kafka/producer.ts` and
 * consumes through `src/kafka/consumer.ts`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Producer } from "@platformatic/kafka";
import { endOffsets, withAdmin } from "../../src/kafka/admin.ts";
import { type KafkaClient, setupOf } from "../../src/kafka/client.ts";
import { keyPartitioner } from "../../src/kafka/producer.ts";

/** A message sent as it is. */
export interface RawMessage {
  readonly key?: string | Uint8Array | null;
  readonly value: string | Uint8Array | null;
  /** The partition to send it to, instead of the key's. */
  readonly partition?: number;
}

/** What {@link TestProducer.send} sends. */
export interface RawRecord {
  readonly topic: string;
  readonly messages: readonly RawMessage[];
}

/** A plain producer: idempotent (no duplicates when it retries), no buffer, no retries of ours. */
export interface TestProducer extends AsyncDisposable {
  /** Resolves once every in-sync replica has the messages. */
  send(record: RawRecord): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * Connects a plain producer, partitioning by key as the program's publisher does.
 *
 * @param kafka The cluster.
 * @returns The producer, connected; dispose of it (or disconnect it) when done.
 *
 * @example
 * ```ts ignore
 * import { openTestProducer } from "./kafka.ts";
 * await using producer = await openTestProducer(kafka);
 * await producer.send({ topic, messages: [{ key: "x", value: "not json" }] });
 * ```
 */
export function openTestProducer(kafka: KafkaClient): Promise<TestProducer> {
  const producer = new Producer({
    ...setupOf(kafka).options,
    idempotent: true,
    partitioner: keyPartitioner,
  });
  const disconnect = () => producer.close();
  return Promise.resolve({
    async send({ topic, messages }) {
      await producer.send({
        messages: messages.map(({ key, value, partition }) => ({
          topic,
          ...(partition === undefined ? {} : { partition }),
          ...(key === undefined || key === null ? {} : { key: bytes(key) }),
          ...(value === null ? {} : { value: bytes(value) }),
        })),
      });
    },
    disconnect,
    [Symbol.asyncDispose]: disconnect,
  });
}

/** The library takes a Buffer, not any Uint8Array; this one shares the bytes. */
function bytes(data: string | Uint8Array): Buffer {
  if (typeof data === "string") return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Whether the group has committed every partition of the topic up to its end.
 *
 * @param kafka The cluster.
 * @param where The topic and the group.
 * @returns True when nothing on the topic is left uncommitted.
 *
 * @example
 * ```ts ignore
 * import { committedToEnd } from "./kafka.ts";
 * const done = await committedToEnd(kafka, { topic: "checks", groupId: "monitor" });
 * ```
 */
export async function committedToEnd(
  kafka: KafkaClient,
  where: { readonly topic: string; readonly groupId: string },
): Promise<boolean> {
  const { topic, groupId } = where;
  const ends = await endOffsets(kafka, topic);
  return await withAdmin(kafka, async (admin) => {
    const [group] = await admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [...ends.keys()] }] }],
    });
    const committed = group?.topics.find((t) => t.name === topic)?.partitions ?? [];
    return ends.every((end, partition) =>
      committed.find((p) => p.partitionIndex === partition)?.committedOffset === end
    );
  });
}

/**
 * Deletes the topic, if it exists (a benchmark cleaning up after itself).
 *
 * @param kafka The cluster.
 * @param topic The topic.
 * @throws {Error} When the cluster cannot be reached.
 *
 * @example
 * ```ts ignore
 * import { deleteTopic } from "./kafka.ts";
 * await deleteTopic(kafka, "bench-writer-1a2b3c4d");
 * ```
 */
export async function deleteTopic(kafka: KafkaClient, topic: string): Promise<void> {
  await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: [topic] }).catch(() => {}));
}
