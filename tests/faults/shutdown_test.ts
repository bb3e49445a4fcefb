/**
 * SIGTERM to `monitor produce` and `monitor consume` running as processes: each exits 0 within
 * 10 s, the producer having published what it held and the consumer having stored and committed
 * it, so the database holds exactly the checks on the topic.
 */
import assert from "node:assert/strict";
import { spawnMonitor } from "../_helpers/cli.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import { idsOnTopic, testEnv, waitFor, withDatabase } from "../_helpers/services.ts";

Deno.test("SIGTERM stops produce and consume within 10 s with every check stored once", async () => {
  await using target = startHttpTarget();
  const dir = await Deno.makeTempDir();
  const sitesFile = `${dir}/sites.yaml`;
  await Deno.writeTextFile(
    sitesFile,
    "sites:\n" + Array.from(
      { length: 20 },
      (_, i) => `  - id: s${i}\n    url: ${target.url("/sleep/200")}\n    interval: 5s\n`,
    ).join(""),
  );
  const env = testEnv({ LOG_LEVEL: "info" });
  try {
    await withDatabase(env, async (sql) => {
      const count = async () =>
        (await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM checks`)[0].n;
      const consume = spawnMonitor(["consume"], env);
      const produce = spawnMonitor(["produce", "--config", sitesFile], env);
      await waitFor("rows from both", async () => (await count()) >= 20 || undefined, 60_000);

      // Checks are in flight (each takes 200 ms): they finish and are published.
      const producer = await produce.stop();
      assert.equal(producer.code, 0, produce.log());
      assert.ok(producer.ms < 10_000, `produce took ${producer.ms} ms to stop`);
      const published = Number(/producer stopped published=(\d+)/.exec(produce.log())?.[1]);
      assert.ok(published >= 20, produce.log());

      await waitFor("every published check", async () => (await count()) >= published || undefined);
      const consumer = await consume.stop();
      assert.equal(consumer.code, 0, consume.log());
      assert.ok(consumer.ms < 10_000, `consume took ${consumer.ms} ms to stop`);

      const stored = await sql<{ check_id: string }[]>`SELECT check_id FROM checks`;
      const onTopic = await idsOnTopic(env, published);
      assert.equal(onTopic.length, published);
      assert.deepEqual(stored.map((r) => r.check_id).toSorted(), onTopic.toSorted());
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
