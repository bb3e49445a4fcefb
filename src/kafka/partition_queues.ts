/**
 * Messages read from the topic and not yet handed over, one queue a partition: what lets a
 * consumer that reads one stream of messages hand over per-partition batches, several partitions
 * at once, each in offset order. Pure: no client, no clock.
 *
 * @module
 */
import { type KafkaMessage, sizeOf } from "./batch.ts";

/** A message with what the queues need to know of it. */
export interface QueuedMessage {
  readonly partition: number;
  readonly offset: bigint;
  /** Leader epoch of the partition when the message was written, for the commit. */
  readonly leaderEpoch: number;
  readonly message: KafkaMessage;
}

/** One partition's next batch. */
export interface TakenBatch {
  readonly partition: number;
  readonly messages: KafkaMessage[];
  /** The last message's offset and leader epoch. */
  readonly lastOffset: bigint;
  readonly leaderEpoch: number;
}

/** Per-partition queues; see {@link createPartitionQueues}. */
export interface PartitionQueues {
  /**
   * Queues a message, unless its partition already had it or a later one (the library reads a
   * partition again from its committed offset after a rebalance). Nothing queued is ever
   * dropped: what a partition had is handed over, in order.
   * @returns Whether it was queued.
   */
  add(queued: QueuedMessage): boolean;
  /** Partitions with messages waiting, the longest-served last. */
  waiting(): number[];
  /**
   * Takes a partition's next batch: messages in offset order up to `batchBytes` (at least one),
   * and moves the partition behind the others.
   */
  take(partition: number): TakenBatch | undefined;
  /** Bytes waiting in all queues. */
  bytes(): number;
}

/**
 * Creates empty queues.
 *
 * @param batchBytes Most bytes of a batch (a single larger message makes a batch of its own).
 * @returns The queues.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createPartitionQueues } from "./partition_queues.ts";
 * const queues = createPartitionQueues(10);
 * const at = (partition: number, offset: number) => ({
 *   partition,
 *   offset: BigInt(offset),
 *   leaderEpoch: 0,
 *   message: { offset: String(offset), key: null, value: new Uint8Array(4) },
 * });
 * for (const offset of [0, 1, 2]) queues.add(at(0, offset));
 * queues.add(at(1, 7));
 * assert.equal(queues.add(at(0, 1)), false, "read again after a rebalance");
 * assert.deepEqual(queues.take(0)?.messages.map((m) => m.offset), ["0", "1"]);
 * assert.deepEqual(queues.waiting(), [1, 0]);
 * ```
 */
export function createPartitionQueues(batchBytes: number): PartitionQueues {
  const queues = new Map<number, QueuedMessage[]>();
  /** Per partition, the offset after the last message queued. */
  const next = new Map<number, bigint>();
  let total = 0;
  return {
    add(queued) {
      const { partition, offset } = queued;
      if (offset < (next.get(partition) ?? -1n)) return false;
      next.set(partition, offset + 1n);
      let queue = queues.get(partition);
      if (queue === undefined) queues.set(partition, queue = []);
      queue.push(queued);
      total += sizeOf(queued.message);
      return true;
    },
    waiting: () => [...queues.keys()],
    take(partition) {
      const queue = queues.get(partition);
      if (queue === undefined) return undefined;
      let bytes = 0;
      let count = 0;
      for (const { message } of queue) {
        const size = sizeOf(message);
        if (count > 0 && bytes + size > batchBytes) break;
        bytes += size;
        count++;
      }
      const taken = queue.splice(0, count);
      total -= bytes;
      queues.delete(partition);
      if (queue.length > 0) queues.set(partition, queue);
      const last = taken.at(-1)!;
      return {
        partition,
        messages: taken.map((queued) => queued.message),
        lastOffset: last.offset,
        leaderEpoch: last.leaderEpoch,
      };
    },
    bytes: () => total,
  };
}
