/**
 * End to end through the real broker and database: the `monitor` commands as a user runs them.
 */
import assert from "node:assert/strict";
import { encodeCheckResult } from "../../src/kafka/codec.ts";
import { makeResult } from "../_helpers/results.ts";
import { closedPort, startHttpTarget } from "../_helpers/http_target.ts";
import { monitor } from "../_helpers/cli.ts";
import { testEnv, testProducer, waitFor, withDatabase } from "../_helpers/services.ts";

const ROUNDS = 3;

Deno.test("produce --once then consume stores exactly one row per check, with the checked values", async () => {
  await using target = startHttpTarget();
  const sitesFile = await Deno.makeTempFile({ suffix: ".yaml" });
  const env = testEnv();
  const refusedUrl = `http://127.0.0.1:${closedPort()}/`;
  try {
    await Deno.writeTextFile(
      sitesFile,
      `sites:
  - id: up
    url: ${target.url("/text/hello%20world")}
    pattern: "hello"
  - id: server-error
    url: ${target.url("/code/500")}
  - id: mismatch
    url: ${target.url("/text/goodbye")}
    pattern: "hello"
  - id: refused
    url: ${refusedUrl}
`,
    );
    await withDatabase(env, async (sql) => {
      for (let round = 0; round < ROUNDS; round++) {
        const produce = monitor(["produce", "--config", sitesFile, "--once"], env);
        assert.equal(await produce.code, 0, produce.err());
      }
      const consume = monitor(["consume"], env);
      try {
        await waitFor("all rows", async () => {
          const [{ count }] = await sql<
            [{ count: number }]
          >`SELECT count(*)::int AS count FROM check_results`;
          return count >= 4 * ROUNDS ? count : undefined;
        });
      } finally {
        consume.stop();
        assert.equal(await consume.code, 0, consume.err());
      }

      const rows = await sql`
        SELECT site, count(*)::int AS checks, count(DISTINCT check_id)::int AS ids,
               bool_and(up) AS up, min(status_code) AS status, bool_and(pattern_matched) AS matched,
               min(error) AS error, bool_and(response_time_ms >= 0) AS timed,
               max(url) AS url
        FROM check_results GROUP BY site ORDER BY site`;
      assert.deepEqual(rows.map((r) => ({ ...r })), [
        {
          site: "mismatch",
          checks: 3,
          ids: 3,
          up: false,
          status: 200,
          matched: false,
          error: "pattern_mismatch",
          timed: true,
          url: target.url("/text/goodbye"),
        },
        {
          site: "refused",
          checks: 3,
          ids: 3,
          up: false,
          status: null,
          matched: null,
          error: "refused",
          timed: null,
          url: refusedUrl,
        },
        {
          site: "server-error",
          checks: 3,
          ids: 3,
          up: false,
          status: 500,
          matched: null,
          error: "unexpected_status",
          timed: true,
          url: target.url("/code/500"),
        },
        {
          site: "up",
          checks: 3,
          ids: 3,
          up: true,
          status: 200,
          matched: true,
          error: null,
          timed: true,
          url: target.url("/text/hello%20world"),
        },
      ]);
    });
  } finally {
    await Deno.remove(sitesFile);
  }
});

Deno.test("consume keeps unreadable and unstorable messages in rejected_messages and stores the readable ones", async () => {
  const env = testEnv();
  await using kafka = await testProducer(env, 1);
  {
    const good = makeResult();
    await kafka.producer.send({
      topic: kafka.topic,
      messages: [
        { key: "x", value: "not json" },
        encodeCheckResult(good),
        { key: "y", value: JSON.stringify({ ...good, version: 99 }) },
        // Valid JSON, but PostgreSQL cannot store a NUL: it must not block the partition.
        encodeCheckResult(makeResult({ siteName: "Bad\u0000Name" })),
      ],
    });
    await withDatabase(env, async (sql) => {
      const consume = monitor(["consume"], env);
      try {
        await waitFor("four stored messages", async () => {
          const [{ n }] = await sql<[{ n: number }]>`
            SELECT (SELECT count(*) FROM checks) + (SELECT count(*) FROM rejected_messages) AS n`;
          return Number(n) >= 4 || undefined;
        });
      } finally {
        consume.stop();
        assert.equal(await consume.code, 0, consume.err());
      }
      const checks = await sql`SELECT check_id FROM checks`;
      assert.deepEqual(checks.map((r) => r.check_id), [good.checkId]);
      const rejected = await sql`
        SELECT kafka_offset, convert_from(message, 'UTF8') AS message, reason
        FROM rejected_messages ORDER BY kafka_offset`;
      assert.deepEqual(rejected.map((r) => [r.kafka_offset, r.reason.split(":")[0]]), [
        ["0", "Message is not JSON"],
        ["2", "Message version 99 is not supported"],
        ["3", "Message is not a valid check result"],
      ]);
      assert.match(rejected[2]?.reason, /siteName: must not contain NUL characters/);
      assert.equal(rejected[0]?.message, "not json");
      assert.match(
        consume.err(),
        /WARN unreadable messages kept in rejected_messages count=[123]\b/,
      );
    });
  }
});

Deno.test("consume refuses to start on a database that is not migrated", async () => {
  const env = testEnv();
  await withDatabase(env, async () => {
    const consume = monitor(["consume"], env);
    assert.equal(await consume.code, 1);
    assert.match(
      consume.err(),
      /The database schema is not up to date \(missing 0001_schema\.sql\): run "monitor migrate" first/,
    );
  }, { migrated: false });
});

Deno.test("run migrates, produces and consumes until stopped, and a stop while it starts ends it too", async () => {
  await using target = startHttpTarget();
  const sitesFile = await Deno.makeTempFile({ suffix: ".yaml" });
  const env = testEnv({ LOG_LEVEL: "info" });
  try {
    await Deno.writeTextFile(
      sitesFile,
      `sites:\n  - id: up\n    url: ${target.url("/code/200")}\n    interval: 5s\n`,
    );
    await withDatabase(env, async (sql) => {
      const run = monitor(["run", "--config", sitesFile], env);
      try {
        await waitFor(
          "the first result stored",
          () => /first results stored/.test(run.err()) || undefined,
        );
      } finally {
        run.stop();
        assert.equal(await run.code, 0, run.err());
      }
      const [row] = await sql`SELECT count(*)::int AS checks FROM check_results WHERE site = 'up'`;
      assert.ok(row!.checks >= 1, run.err());
      // Stopped before it has started anything: it must not wait for a stop that already came.
      const early = monitor(["run", "--config", sitesFile], env);
      early.stop();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const code = await Promise.race([
        early.code,
        new Promise((resolve) => timer = setTimeout(() => resolve("still running"), 30_000)),
      ]);
      clearTimeout(timer);
      assert.equal(code, 0, early.err());
    }, { migrated: false });
  } finally {
    await Deno.remove(sitesFile);
  }
});
