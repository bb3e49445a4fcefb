/**
 * The lag of what a consumer reads: each partition's high watermark (the offset its next message
 * will get), which the library's message stream does not hand over, asked of the brokers at most
 * once a second while messages are read.
 *
 * (The library also publishes each fetch's response on a diagnostics channel, but under Deno a
 * subscriber there keeps every response alive until it unsubscribes.)
 *
 * @module
 */
import type { Consumer } from "@platformatic/kafka";

/** High watermarks of one topic. */
export interface HighWatermarks {
  /**
   * Messages on the partition after `offset`, as of the last answer (0 when unknown or older
   * than the offset); asks again when that answer is older than the refresh interval.
   * @param partition The partition.
   * @param offset The offset of a message read.
   */
  lagAfter(partition: number, offset: bigint): number;
  /** Asks no more. */
  close(): void;
}

/**
 * Follows the high watermarks of `topic`, asked through `consumer`.
 *
 * @param consumer The library's consumer.
 * @param topic The topic it reads.
 * @param refreshMs Least time between two questions.
 * @returns The watermarks; close them before the consumer.
 *
 * @example
 * ```ts ignore
 * import { followHighWatermarks } from "./watermarks.ts";
 * const marks = followHighWatermarks(consumer, "checks");
 * const lag = marks.lagAfter(0, 41n);
 * marks.close();
 * ```
 */
export function followHighWatermarks(
  consumer: Pick<Consumer, "listOffsets">,
  topic: string,
  refreshMs = 1_000,
): HighWatermarks {
  let marks: readonly bigint[] = [];
  let askedMs = -Infinity;
  let asking = false;
  let closed = false;

  function ask() {
    asking = true;
    askedMs = performance.now();
    consumer.listOffsets({ topics: [topic] }).then(
      (offsets) => marks = offsets.get(topic) ?? marks,
      () => {}, // the lag is a figure to show; the next batch asks again
    ).finally(() => asking = false);
  }

  ask(); // so that the first batches have a figure
  return {
    lagAfter(partition, offset) {
      if (!closed && !asking && performance.now() - askedMs >= refreshMs) ask();
      const mark = marks[partition];
      return mark === undefined ? 0 : Math.max(0, Number(mark - offset - 1n));
    },
    close() {
      closed = true;
    },
  };
}
