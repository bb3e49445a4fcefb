import assert from "node:assert/strict";
import { createLogger } from "../../src/log.ts";
import { monitor, servedPort } from "../_helpers/cli.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import { freePorts } from "../_helpers/own_services.ts";
import { testEnv, waitFor, withDatabase } from "../_helpers/services.ts";

Deno.test("produce --metrics-port serves checks by site and outcome, and a healthy /healthz", async () => {
  await using target = startHttpTarget();
  const dir = await Deno.makeTempDir();
  const sitesFile = `${dir}/sites.yaml`;
  await Deno.writeTextFile(
    sitesFile,
    `sites:\n  - id: fine\n    url: ${target.url("/code/200")}\n    interval: 5s\n` +
      `  - id: broken\n    url: ${target.url("/code/500")}\n    interval: 5s\n`,
  );
  const env = testEnv({ LOG_LEVEL: "info" });
  const produce = monitor(["produce", "--config", sitesFile, "--metrics-port", "0"], {
    ...env,
    LOG_FORMAT: "json",
  });
  try {
    const observer = await waitFor("the metrics endpoint", () => {
      try {
        return `http://127.0.0.1:${servedPort(produce.err())}`;
      } catch {
        return undefined;
      }
    });
    const metrics = await waitFor("both sites checked and published", async () => {
      const text = await (await fetch(`${observer}/metrics`)).text();
      return /^monitor_publish_duration_seconds_count [1-9]/m.test(text) &&
          /outcome="unexpected_status"/.test(text)
        ? text
        : undefined;
    });
    assert.match(metrics, /^monitor_checks_total\{site="fine",outcome="up"\} [1-9]\d*$/m);
    assert.match(
      metrics,
      /^monitor_checks_total\{site="broken",outcome="unexpected_status"\} [1-9]\d*$/m,
    );
    assert.match(metrics, /^monitor_check_duration_seconds_count [1-9]\d*$/m);
    assert.match(metrics, /^monitor_publish_dropped 0$/m);
    const health = await fetch(`${observer}/healthz`);
    assert.deepEqual({ status: health.status, body: await health.json() }, {
      status: 200,
      body: { kafka: "ok" },
    });
    const missing = await fetch(`${observer}/nothing`);
    await missing.body?.cancel();
    assert.equal(missing.status, 404);
  } finally {
    produce.stop();
    assert.equal(await produce.code, 0, produce.err());
    await Deno.remove(dir, { recursive: true });
  }
  // Every line is one JSON object with the time, level and message.
  for (const line of produce.err().trimEnd().split("\n")) {
    const entry = JSON.parse(line);
    assert.ok(typeof entry.time === "string" && typeof entry.message === "string", line);
  }
});

/** What `/healthz` of `monitor args… --metrics-port 0` answers once it names a Kafka problem. */
async function healthOnceKafkaFails(args: readonly string[], env: Record<string, string>) {
  const command = monitor([...args, "--metrics-port", "0"], env);
  try {
    const observer = await waitFor(`${args[0]}'s metrics endpoint`, () => {
      try {
        return `http://127.0.0.1:${servedPort(command.err())}`;
      } catch {
        return undefined;
      }
    });
    // "not connected yet" at first, then the reason the latest attempt failed.
    return await waitFor(`${args[0]}'s /healthz to say why Kafka is unreachable`, async () => {
      const response = await fetch(`${observer}/healthz`);
      const body = await response.json();
      return /Cannot use Kafka/.test(body.kafka) ? { status: response.status, body } : undefined;
    });
  } finally {
    command.stop();
    assert.equal(await command.code, 0, command.err());
  }
}

Deno.test("produce and consume answer /healthz while they wait for Kafka: 503, saying why", async () => {
  const closed = `127.0.0.1:${freePorts(1)}`;
  const env = testEnv({ KAFKA_BROKERS: closed, LOG_FORMAT: "json", LOG_LEVEL: "info" });
  const dir = await Deno.makeTempDir();
  const sitesFile = `${dir}/sites.yaml`;
  await Deno.writeTextFile(sitesFile, "sites:\n  - id: a\n    url: http://127.0.0.1:9/\n");
  const kafka = new RegExp(`^unreachable: Cannot use Kafka at "${closed}": .+: start the local`);
  try {
    const produce = await healthOnceKafkaFails(["produce", "--config", sitesFile], env);
    assert.equal(produce.status, 503);
    assert.deepEqual(Object.keys(produce.body), ["kafka"]);
    assert.match(produce.body.kafka, kafka);
    await withDatabase(env, async () => {
      const consume = await healthOnceKafkaFails(["consume"], env);
      assert.equal(consume.status, 503);
      assert.deepEqual(Object.keys(consume.body), ["kafka", "database"]);
      assert.match(consume.body.kafka, kafka);
      assert.equal(consume.body.database, "ok");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createLogger() in json format writes one object per line, fields included", () => {
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line), () => 0, "json");
  log.info("batch stored", { rows: 12, partition: "3", skipped: undefined });
  log.debug("not written");
  assert.deepEqual(lines.map((line) => JSON.parse(line)), [
    {
      time: "1970-01-01T00:00:00.000Z",
      level: "info",
      message: "batch stored",
      rows: 12,
      partition: "3",
    },
  ]);
});

Deno.test("createLogger() in text format writes fields as key=value, quoted when they must be", () => {
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line), () => 0);
  log.info("batch written", { rows: 12, note: "a b", skipped: undefined, raw: "x\u001by" });
  log.debug("not written");
  assert.deepEqual(lines, [
    '1970-01-01T00:00:00.000Z INFO batch written rows=12 note="a b" raw=x\uFFFDy',
  ]);
});
