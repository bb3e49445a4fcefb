/**
 * The lag of what a consumer reads: each partition's high watermark, asked of the brokers at most
 * once a refresh interval (the library's diagnostics channel has them, but under Deno a
 * subscriber there keeps every fetch response alive until it unsubscribes).
 *
 * @module
 */
import type { Consumer } from "@platformatic/kafka";

/** High watermarks of one topic. */
export interface HighWatermarks {
  /** Messages on the partition after `offset`, as of the last answer (0 when unknown). */
  lagAfter(partition: number, offset: bigint): number;
  /** Asks no more. */
  close(): void;
}

/** Follows the high watermarks of `topic`, asked through `consumer` (close them before it). */
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
