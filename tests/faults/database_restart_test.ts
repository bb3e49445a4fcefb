/**
 * PostgreSQL is down when `monitor consume` starts, comes up, then is stopped for 30 s while
 * results keep arriving: the consumer waits for it, stops committing, retries with backoff, and
 * afterwards every result is stored exactly once.
 */
import assert from "node:assert/strict";
import { encodeCheckResult } from "../../src/kafka/codec.ts";
import { monitor } from "../_helpers/cli.ts";
import { ownPostgres } from "../_helpers/own_services.ts";
import { makeResult } from "../_helpers/results.ts";
import { testEnv, testProducer, waitFor, withDatabase } from "../_helpers/services.ts";
import { rollupMismatches } from "../_helpers/rollups.ts";

const OUTAGE_MS = Number(Deno.env.get("MONITOR_FAULT_SECONDS") ?? 30) * 1000;

Deno.test("consume waits for the database, survives a 30 s stop, and stores every result once", async () => {
  await using postgres = await ownPostgres();
  await postgres.start();
  const env = testEnv({ ...postgres.env, DATABASE_WRITE_TIMEOUT_MS: "1000" });
  await using kafka = await testProducer(env, 2);
  const sent: string[] = [];
  const publish = async (count: number) => {
    const results = Array.from({ length: count }, (_, i) => makeResult({ siteId: `s-${i % 7}` }));
    await kafka.producer.send({ topic: kafka.topic, messages: results.map(encodeCheckResult) });
    sent.push(...results.map((r) => r.checkId));
  };

  await withDatabase(env, async (sql) => {
    const count = async () =>
      (await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM checks`)[0].n;
    await postgres.stop();
    const consume = monitor(["consume"], env);
    try {
      await waitFor(
        "consume to report the database unreachable",
        () => /Cannot use PostgreSQL at .*; trying again/.test(consume.err()) || undefined,
      );
      await postgres.start();
      await publish(50);
      await waitFor("the first results", async () => (await count()) === 50 || undefined, 60_000);

      await postgres.stop();
      await publish(50);
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      assert.match(consume.err(), /WARN batch not stored, retrying/);
      await postgres.start();

      await waitFor("every result", async () => (await count()) >= 100 || undefined, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 500)); // a straggling duplicate
      const ids = await sql<{ check_id: string }[]>`SELECT check_id FROM checks`;
      assert.deepEqual(ids.map((r) => r.check_id).toSorted(), sent.toSorted());
      assert.deepEqual(await rollupMismatches(sql), [], "a retried batch counted twice");
    } finally {
      consume.stop();
      assert.equal(await consume.code, 0, consume.err());
    }
  });
});
