/**
 * The feed of `monitor watch`: tails the topic from the backfill window on, hands the messages over
 * every 100 ms (how often the screen may be drawn), and after a failure goes on where it had read.
 *
 * @module
 */
import { printable } from "../text.ts";
import type { CheckResult } from "../check/result.ts";
import { backoffMs, sleep } from "../backoff.ts";
import type { KafkaClient } from "../kafka/client.ts";
import { decodeCheckResult } from "../kafka/codec.ts";
import { startTail, type Tail } from "../kafka/tail.ts";
import type { WatchSource } from "./app.tsx";
import type { WatchEvent } from "./state.ts";

/** Options of {@link kafkaTail}. */
export interface TailOptions {
  readonly kafka: KafkaClient;
  readonly topic: string;
  readonly backfillMs: number;
  /** How often gathered results are handed over. */
  readonly batchMs?: number;
  /** What starts each tail of the topic: {@link startTail}, unless a test stands in for it. */
  readonly start?: typeof startTail;
}

const RATE_WINDOW_MS = 5_000;

/** @returns The topic as a {@link WatchSource}; each subscription tails it until stopped. */
export function kafkaTail(options: TailOptions): WatchSource {
  return {
    subscribe(dispatch) {
      const stop = new AbortController();
      void tail(options, dispatch, stop.signal); // never rejects
      return () => stop.abort();
    },
  };
}

async function tail(
  options: TailOptions,
  dispatch: (event: WatchEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const { kafka, topic, batchMs = 100, start = startTail } = options;
  // The next offset of each partition: a tail started again after a failure goes on from there.
  const positions = new Map<number, bigint>();
  // Message values as read: each decoded only as it is applied, never a backfill of results held.
  let pending: (Uint8Array | null)[] = [];
  const lags = new Map<number, number>();
  const arrivals: { atMs: number; count: number }[] = [];
  // One hand-over for the subscription, whichever tail reads: until the signal is aborted.
  const handingOver = (async () => {
    while (!signal.aborted) {
      await sleep(batchMs, signal);
      const values = pending;
      pending = [];
      const nowMs = performance.now();
      arrivals.push({ atMs: nowMs, count: values.length });
      while (arrivals[0]!.atMs < nowMs - RATE_WINDOW_MS) arrivals.shift();
      const received = arrivals.reduce((sum, a) => sum + a.count, 0);
      if (values.length > 0) dispatch({ type: "results", results: decoded(values, dispatch) });
      const lag = [...lags.values()].reduce((sum, n) => sum + n, 0);
      dispatch({ type: "rate", messagesPerSecond: received / (RATE_WINDOW_MS / 1000), lag });
    }
  })();
  let failures = 0;
  while (!signal.aborted) {
    dispatch({ type: "connection", connection: { state: "connecting" } });
    lags.clear();
    let running: Tail | undefined;
    try {
      running = await start(kafka, {
        topic,
        sinceMs: Date.now() - options.backfillMs,
        from: new Map(positions),
        onBatch: (batch) => {
          for (const message of batch.messages) pending.push(message.value);
          positions.set(batch.partition, BigInt(batch.messages.at(-1)!.offset) + 1n);
          lags.set(batch.partition, batch.lag);
        },
      });
      dispatch({ type: "connection", connection: { state: "connected" } });
      failures = 0;
      await Promise.race([handingOver, running.crashed]);
    } catch (error) {
      if (signal.aborted) break;
      const retryInMs = backoffMs(++failures);
      dispatch({
        type: "connection",
        connection: { state: "failed", message: printable((error as Error).message), retryInMs },
      });
      await sleep(retryInMs, signal);
    } finally {
      await running?.stop();
    }
  }
}

/** The check results of message values, decoded as they are read; the others counted, once. */
function decoded(
  values: readonly (Uint8Array | null)[],
  dispatch: (event: WatchEvent) => void,
): Iterable<CheckResult> {
  let counted = false;
  return {
    *[Symbol.iterator]() {
      let count = 0;
      for (const value of values) {
        const decoded = decodeCheckResult(value);
        if (decoded.ok) yield decoded.result;
        else count++;
      }
      // Told after the reducer that reads them, not from within it.
      if (!counted && count > 0) queueMicrotask(() => dispatch({ type: "unreadable", count }));
      counted = true;
    },
  };
}
