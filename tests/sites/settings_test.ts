import assert from "node:assert/strict";
import { readSettings, SettingsError } from "../../src/config/settings.ts";

Deno.test("readSettings() gives the sites topic its own name and 12 partitions by default", () => {
  const { kafka } = readSettings({});
  assert.deepEqual([kafka.sitesTopic, kafka.sitesPartitions], ["website-sites", 12]);
});

Deno.test("readSettings() refuses a sites topic that is the results topic", () => {
  assert.throws(
    () => readSettings({ KAFKA_TOPIC: "monitor", KAFKA_SITES_TOPIC: "monitor" }),
    (error: unknown) =>
      error instanceof SettingsError &&
      error.message.includes('KAFKA_SITES_TOPIC must differ from KAFKA_TOPIC: both are "monitor"'),
  );
});
