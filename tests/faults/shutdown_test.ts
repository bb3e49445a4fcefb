/**
 * SIGTERM to `monitor produce` and `monitor consume` running as processes: each exits 0 within
 * 10 s, the producer having published what it held and the consumer having stored and committed
 * it, so the database holds exactly the checks on the topic. A check that would outlast
 * SHUTDOWN_TIMEOUT_MS is called off and published as nothing: the site is not down because the
 * monitor stopped.
 */
import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check/result.ts";
import { spawnMonitor } from "../_helpers/cli.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import {
  idsOnTopic,
  messagesOnTopic,
  testEnv,
  waitFor,
  withDatabase,
} from "../_helpers/services.ts";

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

/** Short, so the test is quick; far shorter than the hanging site's timeout. */
const SHUTDOWN_TIMEOUT_MS = 2_000;
/** Process exit, Kafka disconnect, and a loaded machine. */
const MARGIN_MS = 1_500;

Deno.test("SIGTERM stops produce within SHUTDOWN_TIMEOUT_MS with a check in flight, publishing no result for it", async () => {
  await using target = startHttpTarget();
  const dir = await Deno.makeTempDir();
  const sitesFile = `${dir}/sites.yaml`;
  // `hangs` is checked first, at once; `answers` from 2.5 s on, every 5 s.
  await Deno.writeTextFile(
    sitesFile,
    `sites:
  - id: hangs
    url: ${target.url("/sleep/600000")}
    timeout: 60s
    interval: 2m
  - id: answers
    url: ${target.url("/code/200")}
    interval: 5s
`,
  );
  const env = testEnv({ LOG_LEVEL: "debug", SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
  try {
    const produce = spawnMonitor(["produce", "--config", sitesFile], env);
    await waitFor("a published check of answers", () => {
      return /checked site=answers/.test(produce.log()) || undefined;
    }, 60_000);
    assert.equal(target.peers!.length, 2, "the check of hangs is not in flight");

    const { code, ms } = await produce.stop();
    assert.equal(code, 0, produce.log());
    assert.ok(ms < SHUTDOWN_TIMEOUT_MS + MARGIN_MS, `produce took ${ms} ms to stop`);
    const stopped = /producer stopped published=(\d+) dropped=(\d+) abandoned=(\d+)/.exec(
      produce.log(),
    );
    assert.ok(stopped !== null, produce.log());
    const [published, dropped, abandoned] = stopped.slice(1).map(Number);
    assert.equal(abandoned, 1, produce.log());
    assert.equal(dropped, 0, produce.log());
    assert.ok(published! >= 1, produce.log());

    const results = await resultsOnTopic(env, published!);
    assert.equal(results.length, published);
    assert.deepEqual(results.filter((r) => r.siteId !== "answers" || !r.up), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM stops produce --once within SHUTDOWN_TIMEOUT_MS with a check in flight", async () => {
  await using target = startHttpTarget();
  const dir = await Deno.makeTempDir();
  const sitesFile = `${dir}/sites.yaml`;
  await Deno.writeTextFile(
    sitesFile,
    `sites:\n  - id: hangs\n    url: ${target.url("/sleep/600000")}\n    timeout: 60s\n`,
  );
  const env = testEnv({ LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
  try {
    const produce = spawnMonitor(["produce", "--config", sitesFile, "--once"], env);
    await waitFor("the check in flight", () => target.peers!.length === 1 || undefined, 60_000);
    const { code, ms } = await produce.stop();
    assert.equal(code, 0, produce.log());
    assert.ok(ms < SHUTDOWN_TIMEOUT_MS + MARGIN_MS, `produce took ${ms} ms to stop`);
    assert.match(produce.log(), /producer stopped published=0 dropped=0 abandoned=1/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The first `expected` results on the topic, read from the start by a group of its own. */
async function resultsOnTopic(
  env: Record<string, string>,
  expected: number,
): Promise<CheckResult[]> {
  const messages = await messagesOnTopic(env, expected);
  return messages.map((message) => JSON.parse(new TextDecoder().decode(message.value!)));
}
