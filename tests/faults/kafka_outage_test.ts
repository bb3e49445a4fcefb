/**
 * The broker is down when `monitor produce` starts, comes up, then goes away for 30 s while it
 * runs: the producer waits for it, checks go on, results wait in the producer's bounded buffer,
 * and every result is published once the broker is back; a producer whose buffer is too small for
 * the outage drops the oldest, counts them and says so, and publishes the rest.
 */
import assert from "node:assert/strict";
import { monitor } from "../_helpers/cli.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import { ownBroker } from "../_helpers/own_services.ts";
import { idsOnTopic, testEnv, waitFor, withDatabase } from "../_helpers/services.ts";
import { rollupMismatches } from "../_helpers/rollups.ts";

/** How long the broker stays away; MONITOR_FAULT_SECONDS shortens it when iterating locally. */
const OUTAGE_MS = Number(Deno.env.get("MONITOR_FAULT_SECONDS") ?? 30) * 1000;

Deno.test("produce waits for the broker, keeps every result through a 30 s outage, and bounds its buffer", async () => {
  await using target = startHttpTarget();
  await using broker = await ownBroker();
  const dir = await Deno.makeTempDir();
  const sitesFile = `${dir}/sites.yaml`;
  await Deno.writeTextFile(
    sitesFile,
    ["a", "b"].map((id) => `  - id: ${id}\n    url: ${target.url("/code/200")}\n    interval: 5s\n`)
      .join("").replace(/^/, "sites:\n"),
  );
  const settings = { ...broker.env, LOG_LEVEL: "debug", SHUTDOWN_TIMEOUT_MS: "20000" };
  const roomy = testEnv(settings);
  const cramped = testEnv({ ...settings, PRODUCE_BUFFER_MESSAGES: "3" });
  const producers = [roomy, cramped].map((env) => monitor(["produce", "--config", sitesFile], env));
  const [a, b] = producers as [typeof producers[0], typeof producers[0]];
  const checks = (p: typeof a) => p.err().split("DEBUG checked site=").length - 1;
  try {
    try {
      await waitFor(
        "both producers to report the broker unreachable",
        () =>
          producers.every((p) => /Cannot use Kafka at .*; trying again/.test(p.err())) || undefined,
      );
      await broker.start();
      await waitFor("the first checks", () => checks(a) >= 2 && checks(b) >= 2 || undefined);
      await broker.stop();
      const before = checks(a);
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      assert.ok(checks(a) >= before + 2, "checks went on while the broker was away");
      await broker.start();
      const restarted = checks(a);
      await waitFor(
        "checks after the broker is back",
        () => checks(a) >= restarted + 2 || undefined,
      );
    } finally {
      for (const p of producers) p.stop();
      for (const p of producers) assert.equal(await p.code, 0, p.err());
    }

    const published = (p: typeof a) =>
      Number(/producer stopped published=(\d+)/.exec(p.err())?.[1] ?? NaN);
    assert.equal(published(a), checks(a), "the roomy producer published every result");
    assert.match(b.err(), /ERROR publish buffer full, oldest results dropped/);
    assert.ok(published(b) < checks(b), "the cramped producer dropped some");
    const dropped = Number(/producer stopped published=\d+ dropped=(\d+)/.exec(b.err())?.[1]);
    assert.equal(published(b) + dropped, checks(b), "every result is published or counted");

    for (const [p, env] of [[a, roomy], [b, cramped]] as const) {
      await withDatabase(env, async (sql) => {
        const consume = monitor(["consume"], env);
        try {
          await waitFor("every published result stored", async () => {
            const [{ n }] = await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM checks`;
            return n >= published(p) || undefined;
          });
        } finally {
          consume.stop();
          assert.equal(await consume.code, 0, consume.err());
        }
        const stored = await sql<{ check_id: string }[]>`SELECT check_id FROM checks`;
        const onTopic = await idsOnTopic(env, published(p));
        assert.equal(onTopic.length, published(p));
        assert.deepEqual(stored.map((r) => r.check_id).toSorted(), onTopic.toSorted());
        assert.deepEqual(await rollupMismatches(sql), [], "a result counted twice");
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
