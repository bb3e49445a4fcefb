/**
 * What a consumer hands over: one partition's messages from one fetch, as plain data of our own
 * (not the client library's types).
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import type { Message } from "@platformatic/kafka";

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

/** A message as the library hands it over, its key and value undeserialized. */
export type RawMessage = Message<Buffer | undefined, Buffer | undefined, Buffer, Buffer>;

/**
 * Our message of one the library read: its bytes as they are (not copied), whatever they hold,
 * and null where the message has no key or value.
 *
 * @param message A message of the library's stream.
 * @returns The same message as a {@link KafkaMessage}.
 *
 * @example
 * ```ts ignore
 * import { messageOf } from "./batch.ts";
 * stream.on("data", (message) => queue.push(messageOf(message)));
 * ```
 */
export function messageOf(message: RawMessage): KafkaMessage {
  return {
    offset: message.offset.toString(),
    key: message.key ?? null,
    value: message.value ?? null,
  };
}
