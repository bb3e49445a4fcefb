/**
 * A compacted topic used as a table: each key's last value is its row, a tombstone (a message
 * without a value) deletes it. Read whole, from the beginning to the end each partition had when
 * the reading began; written with an idempotent producer whose sends every in-sync replica
 * acknowledged.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  CompressionAlgorithms,
  Consumer,
  type MessagesStream,
  ProduceAcks,
  Producer,
} from "@platformatic/kafka";
import { listTopics, withAdmin } from "./admin.ts";
import type { RawMessage } from "./batch.ts";
import { type KafkaClient, logBrokerEvents, setupOf } from "./client.ts";
import { keyPartitioner } from "./producer.ts";

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

/** Most messages per send: one request stays well under a broker's size limit. */
const SEND_CHUNK = 500;

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
  const rows = new Map<string, Uint8Array>();
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ??
      [];
    // Empty (or emptied by retention): nothing to join a group for.
    if (ends.every((end, partition) => end <= (starts[partition] ?? 0n))) return rows;
    const stream = await consumer.consume({ topics: [topic], autocommit: false, mode: "earliest" });
    try {
      await untilCaughtUp(stream, { topic, ends, timeoutMs: options.timeoutMs ?? 60_000 }, rows);
    } finally {
      await stream.close().catch(() => {});
    }
    return rows;
  } finally {
    await consumer.close(true).catch(() => {});
  }
}

/** Applies each message to `rows` until every partition has been read up to its end. */
function untilCaughtUp(
  stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
  bounds: { readonly topic: string; readonly ends: readonly bigint[]; readonly timeoutMs: number },
  rows: Map<string, Uint8Array>,
): Promise<void> {
  const { topic, ends, timeoutMs } = bounds;
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
      apply(rows, message);
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

function apply(rows: Map<string, Uint8Array>, message: RawMessage): void {
  if (message.key === undefined) return;
  let key: string;
  try {
    key = UTF8.decode(message.key);
  } catch {
    return;
  }
  if (message.value === undefined) rows.delete(key);
  else rows.set(key, message.value);
}

/**
 * Writes rows to a compacted topic, in order, and returns once every in-sync replica has them.
 * The producer is idempotent: a send retried after a lost answer is not stored twice.
 *
 * @param kafka The cluster.
 * @param topic The topic; it must exist.
 * @param rows Keys and their new values, `null` for a tombstone.
 * @throws {Error} When the cluster does not take them (some may have been written).
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
  const producer = new Producer({
    ...setupOf(kafka).options,
    idempotent: true,
    acks: ProduceAcks.ALL,
    maxInflights: 1,
    compression: CompressionAlgorithms.GZIP,
    // As results: a key's messages on the partition Java's and kafkajs's clients would choose.
    partitioner: keyPartitioner,
    autocreateTopics: false,
  });
  logBrokerEvents(producer, setupOf(kafka).log);
  try {
    for (let start = 0; start < rows.length; start += SEND_CHUNK) {
      await producer.send({
        messages: rows.slice(start, start + SEND_CHUNK).map(({ key, value }) => ({
          topic,
          key: Buffer.from(key),
          // No value: a tombstone.
          ...(value === null ? {} : { value: Buffer.from(value) }),
        })),
      });
    }
  } finally {
    await producer.close().catch(() => {});
  }
}

/**
 * The offset each partition's next message will get: with no transactions, how many messages were
 * ever written to it (compaction removes messages, not offsets).
 *
 * @param kafka The cluster.
 * @param topic The topic.
 * @returns One offset per partition, by partition; none when the topic does not exist.
 * @throws {Error} When the cluster cannot be reached.
 *
 * @example
 * ```ts ignore
 * import { endOffsets } from "./compacted.ts";
 * const written = (await endOffsets(kafka, "website-sites")).reduce((a, b) => a + b, 0n);
 * ```
 */
export async function endOffsets(kafka: KafkaClient, topic: string): Promise<bigint[]> {
  return await withAdmin(kafka, async (admin) => {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    if (count === 0) return [];
    const partitions = [...Array(count).keys()].map((partitionIndex) => ({
      partitionIndex,
      timestamp: -1n,
    }));
    const [ends] = await admin.listOffsets({ topics: [{ name: topic, partitions }] });
    const offsets = Array<bigint>(count).fill(0n);
    for (const { partitionIndex, offset } of ends?.partitions ?? []) {
      offsets[partitionIndex] = offset;
    }
    return offsets;
  });
}
