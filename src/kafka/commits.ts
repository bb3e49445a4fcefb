/**
 * Committing a group's offsets from several partitions' handlers: one commit request at a time,
 * carrying every partition's latest offset, and only while the member is settled in its group.
 *
 * The library answers a commit refused for a rebalance by rejoining the group. A commit sent with
 * a generation the group has left behind would make it rejoin once more, with no partitions of
 * its own (a second, needless rebalance that moves every partition); sent while the member is in
 * a stable generation, the commit reaches the coordinator before the member's own next join.
 *
 * @module
 */
import type { Consumer } from "@platformatic/kafka";
import type { Logger } from "../log.ts";
import { describeKafkaError } from "./errors.ts";

/** Commits of one topic's partitions. */
export interface Committer {
  /**
   * Commits `offset` (the next one to read) of the partition soon, with whatever else waits
   * (a failure is logged; a later commit of the partition covers it).
   */
  commit(partition: number, offset: bigint, leaderEpoch: number): void;
  /** Resolves once every offset given so far is committed, or its commit failed. */
  settled(): Promise<void>;
}

/**
 * Creates the committer of a consumer's topic.
 *
 * @param consumer The library's consumer, in its group.
 * @param topic The topic.
 * @param options `log`; `keepGoing`: false once the consumer stops (nothing waits for the
 *   group any more then).
 * @returns The committer.
 *
 * @example
 * ```ts ignore
 * import { createCommitter } from "./commits.ts";
 * const committer = createCommitter(consumer, "checks", { log, keepGoing: () => !stopping });
 * committer.commit(0, lastOffset + 1n, leaderEpoch);
 * await committer.settled();
 * ```
 */
export function createCommitter(
  consumer: Consumer,
  topic: string,
  options: { readonly log: Logger; readonly keepGoing: () => boolean },
): Committer {
  const pending = new Map<number, { offset: bigint; leaderEpoch: number }>();
  let flushing: Promise<void> | undefined;

  async function flush(): Promise<void> {
    while (pending.size > 0) {
      while (!consumer.isActive() && options.keepGoing()) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const offsets = [...pending].map(([partition, { offset, leaderEpoch }]) => ({
        topic,
        partition,
        offset,
        leaderEpoch,
      }));
      pending.clear();
      try {
        if (options.keepGoing() || consumer.isActive()) await consumer.commit({ offsets });
      } catch (error) {
        options.log.warn("kafka commit failed", {
          partitions: offsets.map((o) => o.partition).join(","),
          error: describeKafkaError(error),
        });
      }
    }
  }

  function startFlushing() {
    flushing ??= flush().finally(() => {
      flushing = undefined;
      if (pending.size > 0) startFlushing();
    });
  }

  return {
    commit(partition, offset, leaderEpoch) {
      const current = pending.get(partition);
      if (current === undefined || current.offset < offset) {
        pending.set(partition, { offset, leaderEpoch });
      }
      startFlushing();
    },
    async settled() {
      while (flushing !== undefined) await flushing;
    },
  };
}
