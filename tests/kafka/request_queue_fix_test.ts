import assert from "node:assert/strict";
import process from "node:process";
// @ts-types="../../src/kafka/request_queue_fix.d.ts"
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import { readSettings } from "../../src/config/settings.ts";
import { createKafka, kafkajsOf } from "../../src/kafka/client.ts";
import { SILENT } from "../../src/log.ts";
import { testEnv } from "../_helpers/services.ts";

Deno.test("an idle kafkajs connection neither polls its request queue nor warns of negative timeouts", async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on("warning", onWarning);
  const check = RequestQueue.prototype.checkPendingRequests;
  let checks = 0;
  RequestQueue.prototype.checkPendingRequests = function (this: RequestQueue) {
    checks++;
    return check.call(this);
  };
  const kafka = kafkajsOf(createKafka(readSettings(testEnv()).kafka, SILENT));
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics(); // a request answered, then nothing to do
    checks = 0;
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Unfixed, each connection checked its empty queue every millisecond: hundreds by now.
    assert.ok(checks < 5, `${checks} checks of an idle queue in 500 ms`);
    await admin.listTopics(); // and requests still go through
  } finally {
    await admin.disconnect();
    RequestQueue.prototype.checkPendingRequests = check;
    process.off("warning", onWarning);
  }
  assert.deepEqual(warnings.filter((name) => name === "TimeoutNegativeWarning"), []);
});
