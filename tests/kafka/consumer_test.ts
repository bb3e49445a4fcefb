/**
 * The consumer against the real broker: offsets committed only after the handler resolved, a
 * failing batch retried, what is in hand not counted as handled, and a stop that gives up on a
 * batch without committing it.
 */
import assert from "node:assert/strict";
import { readSettings } from "../../src/config/settings.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { type KafkaBatch, startConsumer } from "../../src/kafka/consumer.ts";
import { createLogger, SILENT } from "../../src/log.ts";
import { committedToEnd } from "../_helpers/kafka.ts";
import { testEnv, testProducer, waitFor } from "../_helpers/services.ts";

/**
 * A fresh topic of `partitions` with `count` messages, spread over them in `sends` sends (a record
 * batch each, which a fetch does not split); and a consumer's options.
 */
async function topicWith(count: number, partitions: number, sends = 1) {
  const env = testEnv();
  const settings = readSettings(env);
  await using kafka = await testProducer(env, partitions);
  for (let send = 0; send < sends; send++) {
    await kafka.producer.send({
      topic: kafka.topic,
      messages: Array.from(
        { length: count / sends },
        (_, i) => ({ value: `m${send}-${i}`, partition: i % partitions }),
      ),
    });
  }
  return {
    kafka: createKafka(settings.kafka, SILENT),
    topic: kafka.topic,
    groupId: settings.kafka.groupId,
    log: SILENT,
    sessionTimeoutMs: 6_000,
    retryDelayMs: () => 20,
  };
}

const values = (batch: KafkaBatch) => batch.messages.map((m) => new TextDecoder().decode(m.value!));

Deno.test("startConsumer() retries a failing batch and commits its offsets only once it is handled", async () => {
  const options = await topicWith(30, 3);
  const handled = new Set<string>();
  let failures = 0;
  let failing = true;
  const consumer = await startConsumer({
    ...options,
    handle: (batch) => {
      if (batch.partition === 1 && failing) {
        failures++;
        return Promise.reject(new Error("not now"));
      }
      for (const value of values(batch)) handled.add(value);
      return Promise.resolve();
    },
  });
  try {
    await waitFor("retries", () => failures >= 3 || undefined);
    assert.equal(handled.size, 20, "the other partitions' batches were handled");
    assert.equal(await committedToEnd(options.kafka, options), false, "committed while failing");
    failing = false;
    await waitFor("every message handled", () => handled.size === 30 || undefined);
    await waitFor(
      "every offset committed",
      async () => await committedToEnd(options.kafka, options) || undefined,
    );
  } finally {
    await consumer.stop();
  }
});

Deno.test("startConsumer() retries a batch whose handler rejects with something other than an Error", async () => {
  const options = await topicWith(2, 1);
  const reasons: unknown[] = [undefined, "not now"];
  const warned: string[] = [];
  const handled = new Set<string>();
  const consumer = await startConsumer({
    ...options,
    log: createLogger("warn", (line) => warned.push(line)),
    handle: (batch) => {
      if (reasons.length > 0) return Promise.reject(reasons.shift());
      for (const value of values(batch)) handled.add(value);
      return Promise.resolve();
    },
  });
  try {
    await waitFor("every message handled", () => handled.size === 2 || undefined);
    const retried = warned.filter((line) => line.includes("batch not stored, retrying"));
    assert.match(retried[0] ?? "", / error=undefined /);
    assert.match(retried[1] ?? "", / error="not now" /);
  } finally {
    await consumer.stop();
  }
});

Deno.test("startConsumer() counts a batch in hand as not handled, and a stop commits none of it", async () => {
  const options = await topicWith(10, 1);
  let release = () => {};
  const handling = new Promise<void>((resolve) => release = resolve);
  let calls = 0;
  const consumer = await startConsumer({
    ...options,
    handleTimeoutMs: 200,
    handle: () => {
      calls++;
      return handling;
    },
  });
  try {
    await waitFor("the batch in hand", () => calls > 0 || undefined);
    assert.equal(consumer.handledUpTo([10n]), false);
    assert.equal(consumer.handledUpTo([0n]), true, "an empty partition is handled");
  } finally {
    const startedMs = performance.now();
    await consumer.stop();
    assert.ok(performance.now() - startedMs < 5_000, "stop() waited for the handler");
    release();
  }
  assert.equal(calls, 1, "one batch at a time, and no retry of one still running");
  assert.equal(
    await committedToEnd(options.kafka, options),
    false,
    "a batch given up on was committed",
  );

  // Not committed: the group's next member is handed it again, and counts it handled once done.
  const redelivered: string[] = [];
  const next = await startConsumer({
    ...options,
    handle: (batch) => {
      redelivered.push(...values(batch));
      return Promise.resolve();
    },
  });
  try {
    await waitFor("the messages again", () => redelivered.length === 10 || undefined);
    await waitFor("handled up to the end", () => next.handledUpTo([10n]) || undefined);
    await waitFor(
      "every offset committed",
      async () => await committedToEnd(options.kafka, options) || undefined,
    );
  } finally {
    await next.stop();
  }
});

Deno.test("startConsumer() hands a partition its next batch while another partition's is slow", async () => {
  const options = await topicWith(30, 3, 10);
  let release = () => {};
  const slow = new Promise<void>((resolve) => release = resolve);
  const batches = [0, 0, 0];
  let handled = 0;
  const consumer = await startConsumer({
    ...options,
    batchBytes: 100, // one record batch a partition a fetch
    handle: async (batch) => {
      batches[batch.partition] = (batches[batch.partition] ?? 0) + 1;
      if (batch.partition === 0) await slow;
      handled += batch.messages.length;
    },
  });
  try {
    await waitFor("partition 1's second batch", () => (batches[1] ?? 0) >= 2 || undefined);
    assert.equal(batches[0], 1, "partition 0 waits for its batch in hand");
    release();
    await waitFor("every message handled", () => handled === 30 || undefined);
    await waitFor(
      "every offset committed",
      async () => await committedToEnd(options.kafka, options) || undefined,
    );
  } finally {
    release();
    await consumer.stop();
  }
});
