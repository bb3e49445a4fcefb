/**
 * The database goes away while `monitor consume` runs: nothing may be lost or doubled, and the
 * consumer must carry on by itself once it is back.
 */
import assert from "node:assert/strict";
import { encodeCheckResult } from "../../src/kafka/codec.ts";
import { monitor } from "../_helpers/cli.ts";
import { makeResult } from "../_helpers/results.ts";
import { testEnv, testProducer, waitFor, withDatabase } from "../_helpers/services.ts";
import { startTcpProxy } from "../_helpers/tcp_proxy.ts";

Deno.test("consume survives a database outage without losing or doubling results", async () => {
  const env = testEnv();
  const database = new URL(env.DATABASE_URL!);
  await using proxy = startTcpProxy(Number(database.port));
  const throughProxy = new URL(database);
  throughProxy.port = String(proxy.port);
  await using kafka = await testProducer(env, 2);
  const publish = async (count: number) => {
    const results = Array.from(
      { length: count },
      (_, i) => makeResult({ siteId: `site-${i % 5}` }),
    );
    await kafka.producer.send({ topic: kafka.topic, messages: results.map(encodeCheckResult) });
    return results.map((r) => r.checkId);
  };

  await withDatabase(env, async (sql) => {
    const count = async () =>
      (await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM checks`)[0].n;
    const consume = monitor(["consume"], {
      ...env,
      DATABASE_URL: throughProxy.href,
      DATABASE_WRITE_TIMEOUT_MS: "500",
    });
    try {
      const sent = await publish(50);
      await waitFor("the first results", async () => (await count()) === 50 || undefined);

      proxy.cut();
      sent.push(...await publish(50));
      // Depending on when the cut lands, the write fails or hangs; either way it is reported.
      await waitFor(
        "a failed write",
        () => /WARN batch not stored/.test(consume.err()) || undefined,
      );
      assert.equal(await count(), 50);

      proxy.restore();
      await waitFor("every result", async () => (await count()) >= 100 || undefined, 60_000);
      const ids = (await sql<{ check_id: string }[]>`SELECT check_id FROM checks`).map((r) =>
        r.check_id
      );
      assert.deepEqual(ids.toSorted(), sent.toSorted());
    } finally {
      consume.stop();
      assert.equal(await consume.code, 0, consume.err());
    }
  });
});
