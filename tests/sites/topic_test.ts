import assert from "node:assert/strict";
import { readSettings } from "../../src/config/settings.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { SILENT } from "../../src/log.ts";
import { followSitesTopic } from "../../src/sites/topic.ts";
import { closedPort } from "../_helpers/http_target.ts";

Deno.test("followSitesTopic() ends at once, touching no broker, when its signal was aborted before it started", async () => {
  // Nothing listens there: a feed that tried to reach the broker would retry, then fail.
  const settings = readSettings({ KAFKA_BROKERS: `127.0.0.1:${closedPort()}` });
  const follow = followSitesTopic(createKafka(settings.kafka, SILENT), {
    settings,
    env: {},
    log: SILENT,
  });
  const applied: unknown[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tooLate = new Promise<"too late">((resolve) => {
    timer = setTimeout(() => resolve("too late"), 2_000);
  });
  try {
    const ended = await Promise.race([
      follow((sites) => applied.push(sites), AbortSignal.abort()).then(() => "ended"),
      tooLate,
    ]);
    assert.equal(ended, "ended");
  } finally {
    clearTimeout(timer);
  }
  assert.deepEqual(applied, []);
});
