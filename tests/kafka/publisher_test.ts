import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { EncodedMessage } from "../../src/kafka/codec.ts";
import { createPublisher, keyPartitioner } from "../../src/kafka/producer.ts";
import { SILENT } from "../../src/log.ts";
import { makeResult } from "../_helpers/results.ts";

Deno.test("createPublisher() sends results in order, in batches of at most maxBatchSize", async () => {
  const batches: EncodedMessage[][] = [];
  const publisher = createPublisher((messages) => {
    batches.push(messages);
    return Promise.resolve();
  }, { log: SILENT, maxBatchSize: 4 });
  const results = Array.from({ length: 10 }, () => makeResult());
  for (const result of results) publisher.publish(result);
  await publisher.close(1_000);
  assert.ok(batches.every((b) => b.length <= 4));
  assert.deepEqual(
    batches.flat().map((m) => JSON.parse(m.value).checkId),
    results.map((r) => r.checkId),
  );
  assert.deepEqual(publisher.stats(), { sent: 10, buffered: 0, dropped: 0, failedSends: 0 });
});

Deno.test("createPublisher() retries a failed send until the broker takes it, losing nothing", async () => {
  let calls = 0;
  const delivered: string[] = [];
  const publisher = createPublisher((messages) => {
    if (++calls <= 3) return Promise.reject(new Error("broker away"));
    delivered.push(...messages.map((m) => m.key));
    return Promise.resolve();
  }, { log: SILENT, retryDelayMs: () => 1 });
  publisher.publish(makeResult({ siteId: "a" }));
  publisher.publish(makeResult({ siteId: "b" }));
  await publisher.flush();
  assert.deepEqual(delivered, ["a", "b"]);
  assert.equal(publisher.stats().failedSends, 3);
  await publisher.close(1_000);
});

Deno.test("createPublisher() bounds its buffer, dropping and counting the oldest", async () => {
  const delivered: string[] = [];
  let brokerUp = false;
  const publisher = createPublisher((messages) => {
    if (!brokerUp) return Promise.reject(new Error("broker away"));
    delivered.push(...messages.map((m) => m.key));
    return Promise.resolve();
  }, { log: SILENT, maxBufferedMessages: 3, retryDelayMs: () => 1 });
  for (const id of ["a", "b", "c", "d", "e"]) publisher.publish(makeResult({ siteId: id }));
  assert.equal(publisher.stats().dropped, 2);
  brokerUp = true;
  await publisher.flush();
  assert.deepEqual(delivered, ["c", "d", "e"]);
  await publisher.close(1_000);
});

Deno.test("close() gives up after its timeout, counting what was not sent", async () => {
  const publisher = createPublisher(() => Promise.reject(new Error("broker away")), {
    log: SILENT,
    retryDelayMs: () => 60_000,
  });
  publisher.publish(makeResult());
  const started = performance.now();
  await publisher.close(50);
  assert.ok(performance.now() - started < 1_000);
  assert.equal(publisher.stats().dropped, 1);
  assert.equal(publisher.stats().buffered, 0);
});

Deno.test("createPublisher() loses nothing unaccounted when the buffer overflows during a send", async () => {
  const delivered: string[] = [];
  let release: () => void = () => {};
  let first = true;
  const publisher = createPublisher((messages) => {
    delivered.push(...messages.map((m) => m.key));
    if (!first) return Promise.resolve();
    first = false;
    return new Promise<void>((resolve) => release = resolve);
  }, { log: SILENT, maxBufferedMessages: 3 });
  publisher.publish(makeResult({ siteId: "a" })); // sent at once, and held
  for (const id of ["b", "c", "d", "e"]) publisher.publish(makeResult({ siteId: id }));
  release();
  await publisher.flush();
  // "a" was already on its way; "b" was the oldest waiting one, dropped and counted.
  assert.deepEqual(delivered, ["a", "c", "d", "e"]);
  assert.deepEqual(publisher.stats(), { sent: 4, buffered: 0, dropped: 1, failedSends: 0 });
  await publisher.close(1_000);
});

Deno.test("keyPartitioner() agrees with Kafka's own murmur2 test vectors (UtilsTest.testMurmur2), made positive", () => {
  const java = { "21": -973932308, foobar: -790332482, "a-little-bit-long-string": -985981536 };
  for (const [key, hash] of Object.entries(java)) {
    assert.equal(keyPartitioner({ topic: "checks" }, Buffer.from(key)), hash & 0x7fffffff);
  }
});
