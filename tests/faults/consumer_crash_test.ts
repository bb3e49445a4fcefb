/**
 * A consumer process killed mid-stream (SIGKILL: no clean shutdown, no last commit) and another
 * started in its place must together store every message exactly once.
 */
import assert from "node:assert/strict";
import { encodeCheckResult } from "../../src/kafka/codec.ts";
import { makeResult } from "../_helpers/results.ts";
import { testEnv, testProducer, waitFor, withDatabase } from "../_helpers/services.ts";

const TOTAL = 1_500;
const PER_SEND = 30;

function startConsumerProcess(env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../../mod.ts", import.meta.url).pathname, "consume"],
    env,
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function stderrOf(child: Deno.ChildProcess): Promise<string> {
  return new TextDecoder().decode((await child.output()).stderr);
}

Deno.test("a consumer killed mid-stream and replaced loses nothing and stores nothing twice", async () => {
  const env = testEnv();
  await using kafka = await testProducer(env, 3);
  const { producer, topic } = kafka;

  await withDatabase(env, async (sql) => {
    const count = async () =>
      (await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM checks`)[0].n;
    const sent: string[] = [];
    const first = startConsumerProcess(env);
    let second: Deno.ChildProcess | undefined;
    try {
      const producing = (async () => {
        for (let i = 0; i < TOTAL; i += PER_SEND) {
          const batch = Array.from(
            { length: PER_SEND },
            (_, j) => makeResult({ siteId: `site-${(i + j) % 17}` }),
          );
          await producer.send({
            topic,
            acks: -1,
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
      first.kill("SIGKILL");
      const storedAtKill = await count();
      await first.status;
      second = startConsumerProcess(env);
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
    } finally {
      if (second !== undefined) {
        second.kill("SIGTERM");
        const [status, stderr] = await Promise.all([second.status, stderrOf(second)]);
        assert.equal(status.code, 0, stderr);
      }
      await first.status;
    }
  });
});
