/**
 * A compacted topic used as a table: each key's last value is its row, a tombstone (a message
 * without a value) deletes it. Read whole, from the beginning to the end each partition had when
 * the reading began; written with an idempotent producer whose sends every in-sync replica
 * acknowledged.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Consumer, type MessagesStream } from "@platformatic/kafka";
import { ServiceError } from "../errors.ts";
import { jsonLine } from "../text.ts";
import { listTopics } from "./admin.ts";
import type { RawMessage } from "./batch.ts";
import { type KafkaClient, logBrokerEvents, setupOf } from "./client.ts";
import { idempotentProducer } from "./producer.ts";

/** One row to write: a key and its new value, or `null` to delete it (a tombstone). */
export interface KeyedValue {
  readonly key: string;
  readonly value: string | null;
}

/** Options of {@link readLatest}. */
export interface ReadLatestOptions {
  /** Longest the whole read may take; defaults to 60 s. */
  readonly timeoutMs?: number;
}

/** Most messages per send. */
const SEND_MAX_MESSAGES = 500;

/**
 * Most bytes of keys and values per send, room left for each record's framing: a partition's
 * messages of one send form one batch, which a broker refuses over its `max.message.bytes`
 * (1 MB by default).
 */
const SEND_MAX_BYTES = 900_000;

/** A record's framing, counted generously: lengths, offset and time deltas, attributes. */
const RECORD_OVERHEAD_BYTES = 32;

// Keys are text (site ids); fatal, so a key that is not UTF-8 is not taken for another one.
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a compacted topic from its beginning to the end each partition had when the reading
 * began: the last value of each key, keys whose last message is a tombstone left out. Reads as no
 * member of anyone's group: a group of its own that never commits.
 *
 * @param kafka The cluster.
 * @param topic The topic.
 * @param options How long the read may take.
 * @returns Key → last value, or `null` when the topic does not exist. Messages whose key is
 *   missing or not UTF-8 are skipped (a compacted topic refuses a message without a key).
 * @throws {ServiceError} When a key is on two partitions: which of its values is the last cannot
 *   be told (the topic's partition count was changed after the key was written).
 * @throws {Error} When the cluster cannot be reached, or the read takes longer than allowed.
 *
 * @example
 * ```ts ignore
 * import { readLatest } from "./compacted.ts";
 * const rows = await readLatest(kafka, "website-sites");
 * ```
 */
export async function readLatest(
  kafka: KafkaClient,
  topic: string,
  options: ReadLatestOptions = {},
): Promise<Map<string, Uint8Array> | null> {
  if (!(await listTopics(kafka)).includes(topic)) return null;
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    ...setupOf(kafka).options,
    groupId: `monitor-read-${crypto.randomUUID()}`,
    maxWaitTime: 100,
  });
  logBrokerEvents(consumer, setupOf(kafka).log);
  const table: Table = { topic, rows: new Map(), partitionOf: new Map() };
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ??
      [];
    // Empty (or emptied by retention): nothing to join a group for.
    if (ends.every((end, partition) => end <= (starts[partition] ?? 0n))) return table.rows;
    const stream = await consumer.consume({ topics: [topic], autocommit: false, mode: "earliest" });
    try {
      await untilCaughtUp(stream, { ends, timeoutMs: options.timeoutMs ?? 60_000 }, table);
    } finally {
      await stream.close().catch(() => {});
    }
    return table.rows;
  } finally {
    await consumer.close(true).catch(() => {});
  }
}

/** The rows read so far, and the partition each key was found on. */
interface Table {
  readonly topic: string;
  readonly rows: Map<string, Uint8Array>;
  readonly partitionOf: Map<string, number>;
}

/** Applies each message to `table` until every partition has been read up to its end. */
function untilCaughtUp(
  stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
  bounds: { readonly ends: readonly bigint[]; readonly timeoutMs: number },
  table: Table,
): Promise<void> {
  const { ends, timeoutMs } = bounds;
  const { topic } = table;
  // The next offset to fetch moves past what compaction removed (a tombstone deleted after
  // `delete.retention.ms` may have been a partition's last message), which offsets of the
  // messages read would not: it, not the last offset seen, says that a partition is read. It is
  // set together with the fetch's messages, which reach "data" before the stream's buffer is empty.
  const caughtUp = () =>
    stream.readableLength === 0 &&
    ends.every((end, partition) =>
      (stream.offsetsToFetch.get(`${topic}:${partition}`) ?? -1n) >= end
    );
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`Reading topic "${topic}" to its end took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () => {
      if (!caughtUp()) return;
      clearTimeout(timer);
      resolve();
    };
    stream.on("data", (message: RawMessage) => {
      try {
        apply(table, message);
      } catch (error) {
        clearTimeout(timer);
        reject(error);
        return;
      }
      queueMicrotask(check);
    });
    // Told as each fetch's answer arrives, before its messages are handled: look after them. With
    // `maxWaitTime`, a stream at the end fetches (and so tells) every 100 ms.
    stream.on("fetch", () => setTimeout(check, 0));
    stream.on("error", (error: unknown) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function apply(table: Table, message: RawMessage): void {
  if (message.key === undefined) return;
  let key: string;
  try {
    key = UTF8.decode(message.key);
  } catch {
    return;
  }
  checkPartition(table, key, message.partition);
  if (message.value === undefined) table.rows.delete(key);
  else table.rows.set(key, message.value);
}

/**
 * A key's messages are ordered on one partition only: a key found on a second one (its
 * partition moved when partitions were added) has no last value to tell.
 */
function checkPartition(table: Table, key: string, partition: number): void {
  const first = table.partitionOf.get(key);
  if (first === undefined) table.partitionOf.set(key, partition);
  else if (first !== partition) {
    const [a, b] = [first, partition].toSorted((x, y) => x - y);
    throw new ServiceError(
      `Key ${
        jsonLine(key)
      } is on partitions ${a} and ${b} of topic "${table.topic}": its partition count was changed after the key was written, so which of its values is the last cannot be told; delete the topic and publish its contents again`,
    );
  }
}

/**
 * Writes rows to a compacted topic, in order, and returns once every in-sync replica has them.
 * The producer is idempotent: a send retried after a lost answer is not stored twice.
 *
 * @param kafka The cluster.
 * @param topic The topic; it must exist.
 * @param rows Keys and their new values, `null` for a tombstone.
 * @throws {PublishError} When the cluster does not take them: how many it acknowledged first.
 *
 * @example
 * ```ts ignore
 * import { publishLatest } from "./compacted.ts";
 * await publishLatest(kafka, "website-sites", [{ key: "old", value: null }]);
 * ```
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
          // No value: a tombstone.
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
    const bytes = byteLength(row.key) + byteLength(row.value ?? "") + RECORD_OVERHEAD_BYTES;
    if (
      chunk.length > 0 &&
      (chunkBytes + bytes > SEND_MAX_BYTES || chunk.length === SEND_MAX_MESSAGES)
    ) {
      yield chunk;
      chunk = [];
      chunkBytes = 0;
    }
    chunk.push(row);
    chunkBytes += bytes;
  }
  if (chunk.length > 0) yield chunk;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Where a {@link PublishError} stopped. */
export interface PublishProgress {
  readonly topic: string;
  /** Messages the cluster acknowledged before the failure, the first ones of the rows. */
  readonly acknowledged: number;
  /** Messages there were to publish. */
  readonly total: number;
}

/**
 * {@link publishLatest} failed: the first `acknowledged` rows are on the topic, the others may or
 * may not be (a send whose answer was lost may have been written).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PublishError } from "./compacted.ts";
 * const error = new PublishError({ topic: "t", acknowledged: 500, total: 900 }, { cause: "refused" });
 * assert.equal(error.message, 'Publishing to "t" failed after 500 of 900 messages');
 * ```
 */
export class PublishError extends Error {
  override name = "PublishError";
  /** The topic, and how far the publishing went. */
  readonly progress: PublishProgress;

  /**
   * @param progress The topic, and how many messages of how many it acknowledged.
   * @param options The failure of the send, as `cause`.
   */
  constructor(progress: PublishProgress, options: { readonly cause: unknown }) {
    super(
      `Publishing to "${progress.topic}" failed after ${progress.acknowledged} of ${progress.total} messages`,
      options,
    );
    this.progress = progress;
  }
}
