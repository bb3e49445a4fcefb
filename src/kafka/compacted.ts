/**
 * A compacted topic used as a table: each key's last value is its row, a tombstone (a message
 * without a value) deletes it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Consumer, type MessagesStream } from "@platformatic/kafka";
import { ServiceError } from "../errors.ts";
import { jsonLine } from "../text.ts";
import { listTopics } from "./admin.ts";
import { type RawMessage, textKeyOf } from "./batch.ts";
import { type KafkaClient, logBrokerEvents, setupOf } from "./client.ts";
import { idempotentProducer } from "./producer.ts";

/** One row to write: a key and its new value, or `null` to delete it (a tombstone). */
export interface KeyedValue {
  readonly key: string;
  readonly value: string | null;
}

const SEND_MAX_MESSAGES = 500;
/**
 * Most bytes of keys and values per send, room left for framing (32 bytes a record, generously):
 * a partition's messages of one send form one batch, refused over `max.message.bytes` (1 MB).
 */
const SEND_MAX_BYTES = 900_000;
const RECORD_OVERHEAD_BYTES = 32;

/**
 * Reads a compacted topic up to the end each partition had when the reading began, as a group of
 * its own that never commits; keys missing or not UTF-8 are skipped.
 *
 * @returns Key → last value, or `null` when the topic does not exist.
 * @throws {ServiceError} When a key is on two partitions: which of its values is last is unknown.
 */
export async function readLatest(
  kafka: KafkaClient,
  topic: string,
  { timeoutMs = 60_000 }: { readonly timeoutMs?: number } = {},
): Promise<Map<string, Uint8Array> | null> {
  if (!(await listTopics(kafka)).includes(topic)) return null;
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    ...setupOf(kafka).options,
    groupId: `monitor-read-${crypto.randomUUID()}`,
    maxWaitTime: 100,
  });
  logBrokerEvents(consumer, setupOf(kafka).log);
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ??
      [];
    // Empty (or emptied by retention): nothing to join a group for.
    if (ends.every((end, partition) => end <= (starts[partition] ?? 0n))) return new Map();
    const stream = await consumer.consume({ topics: [topic], autocommit: false, mode: "earliest" });
    try {
      return await untilCaughtUp(stream, topic, ends, timeoutMs);
    } finally {
      await stream.close().catch(() => {});
    }
  } finally {
    await consumer.close(true).catch(() => {});
  }
}

/** Each key's last value, once every partition has been read up to its end. */
function untilCaughtUp(
  stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
  topic: string,
  ends: readonly bigint[],
  timeoutMs: number,
): Promise<Map<string, Uint8Array>> {
  const rows = new Map<string, Uint8Array>();
  const partitionOf = new Map<string, number>();

  function apply(message: RawMessage): void {
    const key = textKeyOf(message);
    if (key === undefined) return;
    // A key's messages are ordered on one partition only.
    const first = partitionOf.get(key) ?? message.partition;
    partitionOf.set(key, first);
    if (first !== message.partition) {
      const [a, b] = [first, message.partition].toSorted((x, y) => x - y);
      throw new ServiceError(
        `Key ${
          jsonLine(key)
        } is on partitions ${a} and ${b} of topic "${topic}": its partition count was changed after the key was written, so which of its values is the last cannot be told; delete the topic and publish its contents again`,
      );
    }
    if (message.value === undefined) rows.delete(key);
    else rows.set(key, message.value);
  }

  // The next offset to fetch, not the last offset seen, says that a partition is read: it moves
  // past what compaction removed (a partition's last message may be a tombstone deleted since).
  // It is set together with the fetch's messages, which reach "data" before the buffer is empty.
  const caughtUp = () =>
    stream.readableLength === 0 &&
    ends.every((end, partition) =>
      (stream.offsetsToFetch.get(`${topic}:${partition}`) ?? -1n) >= end
    );
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => {
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => {
      fail(new Error(`Reading topic "${topic}" to its end took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () => {
      if (!caughtUp()) return;
      clearTimeout(timer);
      resolve(rows);
    };
    stream.on("data", (message: RawMessage) => {
      try {
        apply(message);
      } catch (error) {
        return fail(error);
      }
      queueMicrotask(check);
    });
    // Told as each fetch's answer arrives, before its messages are handled: look after them. At
    // the end, `maxWaitTime` makes the stream fetch (and tell) every 100 ms.
    stream.on("fetch", () => setTimeout(check, 0));
    stream.on("error", fail);
  });
}

/**
 * Writes rows to a compacted topic (which must exist), in order, until every in-sync replica has them.
 *
 * @throws {PublishError} When the cluster does not take them.
 */
export async function publishLatest(
  kafka: KafkaClient,
  topic: string,
  rows: readonly KeyedValue[],
): Promise<void> {
  if (rows.length === 0) return;
  const producer = idempotentProducer(kafka);
  logBrokerEvents(producer, setupOf(kafka).log);
  let acknowledged = 0;
  try {
    for (const chunk of sendChunks(rows)) {
      await producer.send({
        messages: chunk.map(({ key, value }) => ({
          topic,
          key: Buffer.from(key),
          ...(value === null ? {} : { value: Buffer.from(value) }),
        })),
      }).catch((cause: unknown) => {
        throw new PublishError({ topic, acknowledged, total: rows.length }, { cause });
      });
      acknowledged += chunk.length;
    }
  } finally {
    await producer.close().catch(() => {});
  }
}

/** Rows in order, cut so that each send stays under {@link SEND_MAX_BYTES}; a larger row alone. */
function* sendChunks(rows: readonly KeyedValue[]): Generator<KeyedValue[]> {
  let chunk: KeyedValue[] = [];
  let chunkBytes = 0;
  for (const row of rows) {
    const bytes = Buffer.byteLength(row.key) + Buffer.byteLength(row.value ?? "") +
      RECORD_OVERHEAD_BYTES;
    const full = chunkBytes + bytes > SEND_MAX_BYTES || chunk.length === SEND_MAX_MESSAGES;
    if (chunk.length > 0 && full) {
      yield chunk;
      chunk = [];
      chunkBytes = 0;
    }
    chunk.push(row);
    chunkBytes += bytes;
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * {@link publishLatest} failed: the first `acknowledged` rows are on the topic, the others may or
 * may not be (a send whose answer was lost may have been written).
 */
export class PublishError extends Error {
  override name = "PublishError";
  /** How many of the rows the cluster acknowledged, the first ones. */
  readonly progress: {
    readonly topic: string;
    readonly acknowledged: number;
    readonly total: number;
  };

  constructor(progress: PublishError["progress"], options: { readonly cause: unknown }) {
    super(
      `Publishing to "${progress.topic}" failed after ${progress.acknowledged} of ${progress.total} messages`,
      options,
    );
    this.progress = progress;
  }
}
