/**
 * A compacted topic used as a table: each key's last value is its row, a tombstone (a message
 * without a value) deletes it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { MessagesStream } from "@platformatic/kafka";
import { ServiceError } from "../errors.ts";
import { jsonLine } from "../text.ts";
import { listTopics } from "./admin.ts";
import type { KafkaClient } from "./client.ts";
import {
  type GroupMember,
  memberOptions,
  openConsumer,
  type RawMessage,
  type Reader,
} from "./consumer.ts";
import { idempotentProducer } from "./producer.ts";

/** One row to write: a key and its new value, or `null` to delete it (a tombstone). */
export interface KeyedValue {
  readonly key: string;
  readonly value: string | null;
}

const SEND_MAX_MESSAGES = 500;
// A partition's messages of one send form one batch, refused over `max.message.bytes` (1 MB):
// room is left for framing (32 bytes a record, generously).
const SEND_MAX_BYTES = 900_000;
const RECORD_OVERHEAD_BYTES = 32;
const READ_TIMEOUT_MS = 60_000;
/** Changes within this time are told together: a fetch's messages, a rebalance's steps. */
const SETTLE_MS = 50;

/**
 * Each key's last value (keys missing or not UTF-8 skipped) up to the end each partition had when
 * the reading began, read as a group of its own that never commits; `null` if there is no topic.
 *
 * @throws {ServiceError} When a key is on two partitions: which of its values is last is unknown.
 */
export async function readLatest(
  kafka: KafkaClient,
  topic: string,
): Promise<Map<string, Uint8Array> | null> {
  if (!(await listTopics(kafka)).includes(topic)) return null;
  const member = openConsumer(kafka, {
    groupId: `monitor-read-${crypto.randomUUID()}`,
    maxWaitTime: 100,
  });
  try {
    const ends = (await member.consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const starts =
      (await member.consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
    // Empty (or emptied by retention): nothing to join a group for.
    if (ends.every((end, partition) => end <= (starts[partition] ?? 0n))) return new Map();
    const stream = await member.consume({ topics: [topic], mode: "earliest" });
    return await untilCaughtUp(stream, topic, ends);
  } finally {
    await member.close();
  }
}

/** Each key's last value, once every partition has been read up to its end. */
async function untilCaughtUp(
  stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
  topic: string,
  ends: readonly bigint[],
): Promise<Map<string, Uint8Array>> {
  const rows = new Map<string, Uint8Array>();
  const partitionOf = new Map<string, number>();
  const { promise, resolve, reject } = Promise.withResolvers<Map<string, Uint8Array>>();
  // The next offset to fetch, not the last offset seen, moves past what compaction removed (a
  // tombstone deleted since); it is set with the fetch's messages, which reach "data" first.
  const check = () => {
    const caughtUp = stream.readableLength === 0 &&
      ends.every((end, partition) =>
        (stream.offsetsToFetch.get(`${topic}:${partition}`) ?? -1n) >= end
      );
    if (caughtUp) resolve(rows);
  };
  stream.on("data", (message: RawMessage) => {
    const key = textKeyOf(message);
    if (key === undefined) return;
    const first = partitionOf.get(key) ?? message.partition;
    partitionOf.set(key, first);
    if (first !== message.partition) {
      const [a, b] = [first, message.partition].toSorted((x, y) => x - y);
      const where = `Key ${jsonLine(key)} is on partitions ${a} and ${b} of topic "${topic}"`;
      reject(
        new ServiceError(
          `${where}: its partition count was changed after the key was written, so which of its values is the last cannot be told; delete the topic and publish its contents again`,
        ),
      );
    }
    if (message.value === undefined) rows.delete(key);
    else rows.set(key, message.value);
    queueMicrotask(check);
  });
  // Told as each fetch's answer arrives, before its messages are handled: look after them. At
  // the end, `maxWaitTime` makes the stream fetch (and tell) every 100 ms.
  stream.on("fetch", () => setTimeout(check, 0));
  stream.on("error", reject);
  const timer = setTimeout(() => {
    reject(new Error(`Reading topic "${topic}" to its end took longer than ${READ_TIMEOUT_MS} ms`));
  }, READ_TIMEOUT_MS);
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Joins the group (resolving once it asked to) and tells `onChange` its partitions' rows as they
 * change, changes close together at once. Nothing is committed: an assigned partition is read
 * whole, so no tombstone compacted away leaves a row behind (see docs/sites-topic.md). Cut off from
 * the brokers, it keeps its rows: checkers go on checking, at the price of a site checked twice.
 */
export async function followAssignedRows(
  options: GroupMember & { readonly onChange: (rows: ReadonlyMap<string, Uint8Array>) => void },
): Promise<Reader> {
  const { topic, log } = options;
  const member = openConsumer(options.kafka, { ...memberOptions(options), maxWaitTime: 500 });
  const { consumer } = member;
  // Every partition's rows read so far, assigned now or before.
  const partitions = new Map<number, Map<string, Uint8Array>>();
  let told: string | undefined;
  let pending: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const assignedNow = () =>
    (consumer.assignments ?? []).filter((a) => a.topic === topic).flatMap((a) => a.partitions);

  function changed(): void {
    if (stopped) return;
    clearTimeout(pending);
    pending = setTimeout(tell, SETTLE_MS);
  }

  function tell(): void {
    const assigned = assignedNow().toSorted((a, b) => a - b);
    for (const partition of partitions.keys()) {
      if (assigned.includes(partition)) continue;
      partitions.delete(partition);
      // Without a next offset, the library starts the partition again at its beginning.
      stream.offsetsToFetch.delete(`${topic}:${partition}`);
    }
    const rows = new Map<string, Uint8Array>();
    for (const partition of assigned) {
      for (const [key, value] of partitions.get(partition) ?? []) rows.set(key, value);
    }
    const now = assigned.join(",");
    if (now !== told) {
      log.info("sites assigned", { groupId: options.groupId, partitions: now, sites: rows.size });
      told = now;
    }
    options.onChange(rows);
  }

  // The assignment changes in steps (revoked, then joined again): each one is told.
  for (const event of ["consumer:group:join", "consumer:group:rebalance", "consumer:group:leave"]) {
    consumer.on(event, changed);
  }
  const stream = await member.consume({ topics: [topic], mode: "earliest" });
  stream.on("data", (message: RawMessage) => {
    const key = textKeyOf(message);
    // (A fetch answered after its partition was revoked: read again when it comes back.)
    if (key === undefined || !assignedNow().includes(message.partition)) return;
    let rows = partitions.get(message.partition);
    if (rows === undefined) partitions.set(message.partition, rows = new Map());
    if (message.value === undefined) rows.delete(key);
    else rows.set(key, message.value);
    changed();
  });

  return {
    crashed: member.crashed,
    stop() {
      stopped = true;
      clearTimeout(pending);
      return member.close();
    },
  };
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A message's key as text; undefined when missing or not UTF-8 (never read as another key). */
function textKeyOf(message: RawMessage): string | undefined {
  try {
    return message.key === undefined ? undefined : UTF8.decode(message.key);
  } catch {
    return undefined;
  }
}

/**
 * Writes rows to a compacted topic (which must exist), in order, until every in-sync replica has
 * them; a {@link PublishError} when the cluster does not take them.
 */
export async function publishLatest(
  kafka: KafkaClient,
  topic: string,
  rows: readonly KeyedValue[],
): Promise<void> {
  if (rows.length === 0) return;
  const producer = idempotentProducer(kafka);
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

/** {@link publishLatest} failed: the first `acknowledged` rows are on the topic, the others may be. */
export class PublishError extends Error {
  override name = "PublishError";

  constructor(
    readonly progress: {
      readonly topic: string;
      readonly acknowledged: number;
      readonly total: number;
    },
    options: { readonly cause: unknown },
  ) {
    super(
      `Publishing to "${progress.topic}" failed after ${progress.acknowledged} of ${progress.total} messages`,
      options,
    );
  }
}
