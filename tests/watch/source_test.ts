/**
 * The feed of `monitor watch` over a stand-in for the topic: what it hands over when its tail of
 * the topic fails and starts again. (Against the real broker: `tests/cli/watch_test.ts`.)
 */
import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check/result.ts";
import { readSettings } from "../../src/config/settings.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { encodeCheckResult } from "../../src/kafka/codec.ts";
import type { startTail, TailOptions } from "../../src/kafka/tail.ts";
import { SILENT } from "../../src/log.ts";
import { kafkaTail } from "../../src/watch/source.ts";
import type { WatchEvent } from "../../src/watch/state.ts";
import { makeResult } from "../_helpers/results.ts";

/** Polls `probe` every 10 ms until it holds, for at most 10 s. */
async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A topic of one partition as the broker serves it: a tail reads from the offset it is given, or
 * from the start of the partition (where the backfill window begins) when it is given none.
 */
function standInTopic(checks: CheckResult[]) {
  const starts: (bigint | undefined)[] = [];
  let crash = (_: Error) => {};
  let deliver = () => {};
  const start = (_kafka: unknown, options: TailOptions) => {
    const from = options.from?.get(0);
    starts.push(from);
    let next = Number(from ?? 0n);
    deliver = () => {
      if (next >= checks.length) return;
      const messages = checks.slice(next).map((check, i) => ({
        offset: String(next + i),
        key: null,
        value: new TextEncoder().encode(encodeCheckResult(check).value),
      }));
      next = checks.length;
      options.onBatch({ topic: options.topic, partition: 0, messages, lag: 0 });
    };
    deliver();
    const crashed = new Promise<never>((_, reject) => crash = reject);
    crashed.catch(() => {});
    return Promise.resolve({ crashed, stop: () => Promise.resolve() });
  };
  return {
    start,
    starts,
    crash: () => crash(new Error("Connection lost")),
    add: (check: CheckResult) => (checks.push(check), deliver()),
  };
}

/** kafkaTail() over a stand-in topic (no broker answers on the address it is given). */
function tailOf(start: typeof startTail) {
  const kafka = createKafka(readSettings({ KAFKA_BROKERS: "127.0.0.1:9" }).kafka, SILENT);
  return kafkaTail({ kafka, topic: "checks", backfillMs: 60_000, batchMs: 10, start });
}

Deno.test("kafkaTail() goes on from where it had read to when its tail fails, handing over each check once", async () => {
  const topic = standInTopic([0, 1, 2].map(() => makeResult({ siteId: "shop" })));
  const events: WatchEvent[] = [];
  const stop = tailOf(topic.start).subscribe((event) => events.push(event));
  const handedOver = () =>
    events.flatMap((event) =>
      event.type === "results" ? [...event.results].map((r) => r.checkId) : []
    );
  try {
    await until("the backfill handed over", () => handedOver().length === 3);
    topic.crash();
    await until("a second tail", () => topic.starts.length === 2);
    topic.add(makeResult({ siteId: "shop" }));
    // A tail reads what it starts from at once: anything read again came before the new check.
    await until("the new check handed over", () => handedOver().length >= 4);
  } finally {
    stop();
  }
  assert.equal(handedOver().length, 4, "each check once");
  assert.equal(new Set(handedOver()).size, 4);
  assert.deepEqual(topic.starts, [undefined, 3n], "the second tail starts after what was read");
  assert.ok(events.some((e) => e.type === "connection" && e.connection.state === "failed"));
});

Deno.test("kafkaTail() hands over the readable results and counts the others once they are read", async () => {
  const topic = standInTopic([makeResult({ siteId: "shop" })]);
  const events: WatchEvent[] = [];
  const results: string[] = [];
  const stop = tailOf((kafka, options) =>
    topic.start(kafka, {
      ...options,
      onBatch: (batch) =>
        options.onBatch({
          ...batch,
          messages: [...batch.messages, { offset: "1", key: null, value: null }, {
            offset: "2",
            key: null,
            value: new TextEncoder().encode("{not json"),
          }],
        }),
    })
  ).subscribe((event) => {
    events.push(event);
    // As the reducer does: each batch read once.
    if (event.type === "results") { for (const r of event.results) results.push(r.siteId); }
  });
  try {
    await until("the unreadable counted", () => events.some((e) => e.type === "unreadable"));
  } finally {
    stop();
  }
  assert.deepEqual(results, ["shop"]);
  const counts = events.flatMap((e) => e.type === "unreadable" ? [e.count] : []);
  assert.deepEqual(counts, [2]);
  const rate = events.findLast((e) => e.type === "rate");
  assert.ok(rate?.type === "rate" && rate.messagesPerSecond > 0);
});

Deno.test("kafkaTail() tells the lag of the tail that reads now, not of one that failed", async () => {
  const topic = standInTopic([makeResult({ siteId: "shop" })]);
  const events: WatchEvent[] = [];
  const stop = tailOf(
    // The first tail is 5 messages behind; the second one has caught up.
    (kafka, options) =>
      topic.start(kafka, {
        ...options,
        onBatch: (batch) => options.onBatch({ ...batch, lag: topic.starts.length === 1 ? 5 : 0 }),
      }),
  ).subscribe((event) => events.push(event));
  const lags = () => events.flatMap((e) => e.type === "rate" ? [e.lag] : []);
  let caughtUp = 0;
  try {
    await until("the first tail's lag", () => lags().includes(5));
    topic.crash();
    await until("a second tail", () => topic.starts.length === 2);
    topic.add(makeResult({ siteId: "shop" }));
    await until(
      "the new check handed over",
      () => events.filter((e) => e.type === "results").length === 2,
    );
    caughtUp = lags().length;
    await until("ten more rates", () => lags().length >= caughtUp + 10);
  } finally {
    stop();
  }
  assert.deepEqual(lags().slice(caughtUp).filter((lag) => lag !== 0), [], "only the second tail's");
});
