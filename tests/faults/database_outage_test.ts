/**
 * The database goes away while `monitor consume` runs: nothing may be lost or doubled, and the
 * consumer must carry on by itself once it is back.
 */
import assert from "node:assert/strict";
import { encodeCheckResult } from "../../src/kafka/codec.ts";
import { monitor, servedPort } from "../_helpers/cli.ts";
import { makeResult } from "../_helpers/results.ts";
import { testEnv, testProducer, waitFor, withDatabase } from "../_helpers/services.ts";
import { rollupMismatches } from "../_helpers/rollups.ts";
import { startTcpProxy } from "../_helpers/tcp_proxy.ts";

Deno.test("consume survives a database outage without losing or doubling results, and reports it on /healthz", async () => {
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
    const consume = monitor(["consume", "--metrics-port", "0", "--log-format", "json"], {
      ...env,
      DATABASE_URL: throughProxy.href,
      DATABASE_WRITE_TIMEOUT_MS: "500",
      LOG_LEVEL: "info",
    });
    try {
      const sent = await publish(50);
      await waitFor("the first results", async () => (await count()) === 50 || undefined);
      const observer = `http://127.0.0.1:${servedPort(consume.err())}`;
      const health = async () => {
        const response = await fetch(`${observer}/healthz`);
        return { status: response.status, body: await response.json() };
      };
      assert.deepEqual(await health(), { status: 200, body: { kafka: "ok", database: "ok" } });

      proxy.cut();
      sent.push(...await publish(50));
      // Depending on when the cut lands, the write fails or hangs; either way it is reported.
      await waitFor(
        "a failed write",
        () => /"level":"warn","message":"batch not stored/.test(consume.err()) || undefined,
      );
      assert.equal(await count(), 50);
      const unhealthy = await health();
      assert.equal(unhealthy.status, 503);
      assert.equal(unhealthy.body.kafka, "ok");
      assert.match(unhealthy.body.database, /^unreachable: /);

      proxy.restore();
      await waitFor("every result", async () => (await count()) >= 100 || undefined, 60_000);
      const ids = (await sql<{ check_id: string }[]>`SELECT check_id FROM checks`).map((r) =>
        r.check_id
      );
      assert.deepEqual(ids.toSorted(), sent.toSorted());
      assert.deepEqual(await rollupMismatches(sql), [], "a retried batch counted twice");
      await waitFor("healthy again", async () => (await health()).status === 200 || undefined);
      const metrics = await (await fetch(`${observer}/metrics`)).text();
      assert.match(metrics, /^monitor_rows_written_total 100$/m);
      assert.match(metrics, /^monitor_messages_consumed_total (\d+)$/m);
      assert.match(metrics, /^monitor_consumer_lag\{partition="[01]"\} 0$/m);
    } finally {
      consume.stop();
      assert.equal(await consume.code, 0, consume.err());
    }
  });
});
