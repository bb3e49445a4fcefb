/**
 * Benchmark (#15): `monitor alert` with 10 000 sites of which 1 % fail. Publishes rounds of one
 * result per site (checked "now") to a fresh results topic; after `failure_threshold` rounds the
 * failing sites open incidents, which a loopback webhook in this process receives. Prints the time
 * from each opening check's `checkedAt` to the webhook receiving it (p50, p99, max), and the CPU
 * the alerter spent per result, against `monitor consume` storing the same results in the same
 * run (the baseline: both read every result once).
 *
 *   deno task bench:alert [--sites 10000] [--failing 0.01] [--rounds 4]
 *
 * Needs Kafka and PostgreSQL (the task starts the local services when unset); uses a schema and
 * topics of its own.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { v7 as uuidv7 } from "uuid";
import { CHECK_RESULT_VERSION, NO_CONNECTION_DETAILS } from "../../src/check/result.ts";
import { readSettings } from "../../src/config/settings.ts";
import { ensureTopic } from "../../src/kafka/admin.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { openTestProducer } from "../../tests/_helpers/kafka.ts";
import { SILENT } from "../../src/log.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sites: { type: "string", default: "10000" },
    failing: { type: "string", default: "0.01" },
    rounds: { type: "string", default: "4" },
  },
});
const SITES = Number(values.sites);
const FAILING = Math.round(SITES * Number(values.failing));
const ROUNDS = Number(values.rounds);
const ROUND_MS = 5_000;
const MOD = new URL("../../mod.ts", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Delay from the opening check to receipt, per incident. */
const latencies = new Map<string, number>();
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  const body = JSON.parse(await req.text());
  if (body.transition === "opened" && !latencies.has(body.incidentId)) {
    latencies.set(body.incidentId, Date.now() - Date.parse(body.openedAt));
  }
  return new Response("ok");
});

const id = crypto.randomUUID().slice(0, 8);
const env: Record<string, string> = {
  ...Deno.env.toObject(),
  KAFKA_TOPIC: `bench-alert-${id}`,
  KAFKA_GROUP_ID: `bench-alert-writer-${id}`,
  KAFKA_ALERT_GROUP_ID: `bench-alert-${id}`,
  DATABASE_SCHEMA: `bench_alert_${id}`,
  WEBHOOK_SECRET: "bench-secret-0123456789",
  LOG_LEVEL: "warn",
};
const dir = await Deno.makeTempDir();
const file = `${dir}/sites.yaml`;
const lines = [
  "defaults:\n  interval: 5s\n  alert:\n    stale_after: 100\n    channels: [hook]",
  `channels:\n  hook:\n    type: webhook\n    url: http://127.0.0.1:${server.addr.port}/hook\n    secret: \${WEBHOOK_SECRET}`,
  "sites:",
];
for (let i = 0; i < SITES; i++) lines.push(`  - id: s${i}\n    url: https://s${i}.example/`);
await Deno.writeTextFile(file, `${lines.join("\n")}\n`);

async function monitor(args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MOD, ...args],
    env,
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`monitor ${args[0]}: ${new TextDecoder().decode(stderr)}`);
}

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ
}

await monitor(["migrate"]);
const settings = readSettings(env);
const kafka = createKafka(settings.kafka, SILENT);
await ensureTopic(
  kafka,
  { topic: settings.kafka.topic, partitions: 6, replicationFactor: -1 },
  SILENT,
);
const producer = await openTestProducer(kafka);
const spawn = (args: string[]) =>
  new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MOD, ...args],
    env,
    stdout: "null",
    stderr: "inherit",
  }).spawn();

async function publishRound(): Promise<void> {
  const checkedAt = new Date().toISOString();
  const messages = [];
  for (let i = 0; i < SITES; i++) {
    const up = i % Math.round(SITES / FAILING) !== 0;
    messages.push({
      key: `s${i}`,
      value: JSON.stringify({
        version: CHECK_RESULT_VERSION,
        checkId: uuidv7(),
        siteId: `s${i}`,
        siteName: `s${i}`,
        url: `https://s${i}.example/`,
        checkedAt,
        timeToHeadersMs: 10,
        responseTimeMs: 20,
        statusCode: up ? 200 : 503,
        pattern: null,
        patternMatched: null,
        certExpiresAt: null,
        ...NO_CONNECTION_DETAILS,
        region: "bench",
        checker: "bench:1",
        up,
        error: up ? null : { kind: "unexpected_status", message: "Status 503" },
      }),
    });
  }
  for (let i = 0; i < messages.length; i += 1_000) {
    await producer.send({ topic: settings.kafka.topic, messages: messages.slice(i, i + 1_000) });
  }
}

await publishRound();
const alerter = spawn(["alert", "--config", file]);
const writer = spawn(["consume"]);
try {
  await sleep(8_000); // both joined their groups and read the first round
  const cpu0 = { alerter: cpuSeconds(alerter.pid), writer: cpuSeconds(writer.pid) };
  for (let round = 1; round < ROUNDS; round++) {
    await sleep(ROUND_MS);
    await publishRound();
  }
  const deadline = Date.now() + 60_000;
  while (latencies.size < FAILING && Date.now() < deadline) await sleep(200);
  await sleep(3_000);
  const cpu1 = { alerter: cpuSeconds(alerter.pid), writer: cpuSeconds(writer.pid) };
  const results = SITES * (ROUNDS - 1);
  const sorted = [...latencies.values()].toSorted((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const alerterUs = (cpu1.alerter - cpu0.alerter) / results * 1e6;
  const writerUs = (cpu1.writer - cpu0.writer) / results * 1e6;
  console.log(`${SITES} sites, ${FAILING} failing, ${ROUNDS} rounds ${ROUND_MS / 1000} s apart`);
  console.log(
    `incidents notified: ${latencies.size}/${FAILING}; opening check → webhook: p50 ${
      at(0.5)
    } ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)} ms`,
  );
  console.log(
    `CPU per result: alerter ${alerterUs.toFixed(0)} µs, monitor consume ${
      writerUs.toFixed(0)
    } µs (ratio ${(alerterUs / writerUs).toFixed(2)})`,
  );
} finally {
  for (const child of [alerter, writer]) {
    child.kill("SIGTERM");
    await child.status;
  }
  await producer.disconnect();
  await server.shutdown();
  await Deno.remove(dir, { recursive: true });
}
