/**
 * What a consumer hands over, as plain data of our own (not the library's types).
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

/** One partition's messages from one fetch, in offset order, never empty, and the lag after them. */
export interface KafkaBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  readonly lag: number;
}

/** A message as the library hands it over, its key and value undeserialized. */
export type RawMessage = Message<Buffer | undefined, Buffer | undefined, Buffer, Buffer>;

/** Our message of one the library read: its bytes as they are (not copied), null where absent. */
export function messageOf(message: RawMessage): KafkaMessage {
  return {
    offset: message.offset.toString(),
    key: message.key ?? null,
    value: message.value ?? null,
  };
}

// Fatal, so a key that is not UTF-8 is not taken for another one.
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A message's key as text (keys of ours are site ids); undefined when missing or not UTF-8. */
export function textKeyOf(message: RawMessage): string | undefined {
  try {
    return message.key === undefined ? undefined : UTF8.decode(message.key);
  } catch {
    return undefined;
  }
}
