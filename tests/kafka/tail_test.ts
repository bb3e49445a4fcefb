/** Tailing a topic against the real broker: where a tail starts. */
import assert from "node:assert/strict";
import { readSettings } from "../../src/config/settings.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { startTail } from "../../src/kafka/tail.ts";
import { SILENT } from "../../src/log.ts";
import { testEnv, testProducer, waitFor } from "../_helpers/services.ts";

Deno.test("startTail() starts a partition at the offset it is given, where an earlier tail stopped", async () => {
  const env = testEnv();
  await using kafka = await testProducer(env, 1);
  await kafka.producer.send({
    topic: kafka.topic,
    messages: ["a", "b", "c", "d", "e"].map((value) => ({ key: "k", value })),
  });
  const offsets: string[] = [];
  const tail = await startTail(createKafka(readSettings(env).kafka, SILENT), {
    topic: kafka.topic,
    sinceMs: 0, // every message is newer: without `from`, the tail would start at the first
    from: new Map([[0, 3n]]),
    onBatch: (batch) => offsets.push(...batch.messages.map((m) => m.offset)),
  });
  try {
    await waitFor("the last message", () => offsets.includes("4") || undefined);
  } finally {
    await tail.stop();
  }
  assert.deepEqual(offsets, ["3", "4"]);
});
