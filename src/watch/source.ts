/**
 * The feed of `monitor watch`: tails the topic in a consumer group of its own (never committing)
 * from the first message of the backfill window, and hands the messages over every 100 ms (which
 * also bounds how often the screen is drawn). When the broker cannot be reached or the topic does
 * not exist, it says so and tries again with backoff, going on from where it had read to.
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
  /** How far back to start. */
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
      // tail() handles its own failures; aborting ends it, and it disconnects on its way out.
      void tail(options, dispatch, stop.signal);
      return () => stop.abort();
    },
  };
}

async function tail(
  options: TailOptions,
  dispatch: (event: WatchEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const { kafka, topic } = options;
  const start = options.start ?? startTail;
  // The next offset of each partition: a tail started again after a failure goes on from there.
  const positions = new Map<number, bigint>();
  // Read but not handed over yet, as the broker sent them: decoded only as they are applied, each
  // result garbage at once, never a backfill's batch of them held at a time.
  let pending: (Uint8Array | null)[] = [];
  let failures = 0;
  while (!signal.aborted) {
    dispatch({ type: "connection", connection: { state: "connecting" } });
    const lags = new Map<number, number>();
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
      await Promise.race([
        handOver(options.batchMs ?? 100, signal, () => {
          const values = pending;
          pending = [];
          return { values, lag: [...lags.values()].reduce((sum, n) => sum + n, 0) };
        }, dispatch),
        running.crashed,
      ]);
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

/** Every `batchMs`, hands what was gathered to `dispatch`, until the signal is aborted. */
async function handOver(
  batchMs: number,
  signal: AbortSignal,
  take: () => { values: (Uint8Array | null)[]; lag: number },
  dispatch: (event: WatchEvent) => void,
): Promise<void> {
  const arrivals: { atMs: number; count: number }[] = [];
  // Told once the results are read (after the reducer, not from within it).
  const onUnreadable = (count: number) =>
    queueMicrotask(() => dispatch({ type: "unreadable", count }));
  while (!signal.aborted) {
    await sleep(batchMs, signal);
    const { values, lag } = take();
    const nowMs = performance.now();
    arrivals.push({ atMs: nowMs, count: values.length });
    while (arrivals[0]!.atMs < nowMs - RATE_WINDOW_MS) arrivals.shift();
    const received = arrivals.reduce((sum, a) => sum + a.count, 0);
    if (values.length > 0) dispatch({ type: "results", results: decoded(values, onUnreadable) });
    dispatch({ type: "rate", messagesPerSecond: received / (RATE_WINDOW_MS / 1000), lag });
  }
}

/** The check results of message values, decoded as they are read; the others counted, once. */
function decoded(
  values: readonly (Uint8Array | null)[],
  onUnreadable: (count: number) => void,
): Iterable<CheckResult> {
  let counted = false;
  return {
    *[Symbol.iterator]() {
      let unreadable = 0;
      for (const value of values) {
        const decoded = decodeCheckResult(value);
        if (decoded.ok) yield decoded.result;
        else unreadable++;
      }
      if (!counted && unreadable > 0) onUnreadable(unreadable);
      counted = true;
    },
  };
}
