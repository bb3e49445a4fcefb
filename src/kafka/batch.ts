/**
 * What a consumer hands over: one partition's messages from one fetch, as plain data of our own
 * (not the client library's types).
 *
 * @module
 */
import type { Batch } from "kafkajs";

/** One message as read from the topic. */
export interface KafkaMessage {
  /** Its offset on the partition, as a decimal string (offsets are 64-bit). */
  readonly offset: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
}

/** One partition's messages from one fetch, in offset order; never empty. */
export interface KafkaBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  /** Messages on the partition after this batch's last one when it was fetched. */
  readonly lag: number;
}

/**
 * Our batch of a kafkajs batch: its messages (not copied) and its lag.
 *
 * @param batch A batch kafkajs handed over.
 * @returns The same messages as a {@link KafkaBatch}.
 *
 * @example
 * ```ts ignore
 * import { batchOf } from "./batch.ts";
 * await consumer.run({ eachBatch: ({ batch }) => handle(batchOf(batch)) });
 * ```
 */
export function batchOf(batch: Batch): KafkaBatch {
  return {
    topic: batch.topic,
    partition: batch.partition,
    messages: batch.messages.map(({ offset, key, value }) => ({
      offset,
      key: key ?? null,
      value: value ?? null,
    })),
    lag: Number(batch.offsetLag()),
  };
}
