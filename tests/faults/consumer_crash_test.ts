/**
 * A consumer process killed mid-stream (SIGKILL: no clean shutdown, no last commit) and another
 * started in its place must together store every message exactly once.
 */
import assert from "node:assert/strict";
import { encodeCheckResult } from "../../src/kafka/codec.ts";
import { type MonitorProcess, spawnMonitor } from "../_helpers/cli.ts";
import { makeResult } from "../_helpers/results.ts";
import { testEnv, testProducer, waitFor, withDatabase } from "../_helpers/services.ts";
import { rollupMismatches } from "../_helpers/rollups.ts";

const TOTAL = 1_500;
const PER_SEND = 30;

Deno.test("a consumer killed mid-stream and replaced loses nothing and stores nothing twice", async () => {
  const env = testEnv({ LOG_LEVEL: "info" });
  await using kafka = await testProducer(env, 3);
  const { producer, topic } = kafka;

  await withDatabase(env, async (sql) => {
    const count = async () =>
      (await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM checks`)[0].n;
    const sent: string[] = [];
    const first = spawnMonitor(["consume"], env);
    let second: MonitorProcess | undefined;
    try {
      // Produce only once it reads, so that it is killed mid-stream however long it takes to start.
      await waitFor(
        "the first consumer to join its group",
        () => /consumer started/.test(first.log()) || undefined,
        60_000,
      );
      const producing = (async () => {
        for (let i = 0; i < TOTAL; i += PER_SEND) {
          const batch = Array.from(
            { length: PER_SEND },
            (_, j) => makeResult({ siteId: `site-${(i + j) % 17}` }),
          );
          await producer.send({
            topic,
            messages: batch.map(encodeCheckResult),
          });
          sent.push(...batch.map((r) => r.checkId));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();

      await waitFor(
        "the first consumer to store some rows",
        async () => (await count()) > 0 || undefined,
      );
      const killed = first.stop("SIGKILL");
      const storedAtKill = await count();
      await killed;
      second = spawnMonitor(["consume"], env);
      await producing;
      assert.ok(storedAtKill < TOTAL, `the first consumer had stored everything (${storedAtKill})`);

      await waitFor(
        "every message stored",
        async () => (await count()) >= TOTAL || undefined,
        60_000,
      );
      // Give a straggling duplicate time to show up before counting.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const ids = (await sql<{ check_id: string }[]>`SELECT check_id FROM checks`).map((r) =>
        r.check_id
      );
      assert.equal(ids.length, TOTAL);
      assert.deepEqual(ids.toSorted(), sent.toSorted());
      assert.deepEqual(await rollupMismatches(sql), [], "a redelivered batch counted twice");
    } finally {
      if (second !== undefined) {
        const { code } = await second.stop();
        assert.equal(code, 0, second.log());
      }
      await first.stop("SIGKILL");
    }
  });
});
