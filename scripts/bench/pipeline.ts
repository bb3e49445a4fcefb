/**
 * Benchmark: the whole pipeline under load. `monitor produce` and `monitor consume` run as two
 * processes, as in production, against the local Kafka and PostgreSQL, checking a loopback target
 * (its own process) for a while; then the producer is stopped (it flushes) and the consumer drains.
 *
 *   deno task bench:pipeline [--sites 10000] [--interval 5s] [--seconds 60]
 *
 * Prints checks per second stored over the run, how that compares with the checks due, the delay
 * from each check's start (`checked_at`) to its row being written (`stored_at`, the writing
 * transaction's time), p50/p99/max, and whether every published check is in the table once.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { connectDatabase } from "../../src/db/client.ts";
import { parseDurationMs } from "../../src/config/duration.ts";
import { type MonitorProcess, spawnMonitor } from "../../tests/_helpers/cli.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sites: { type: "string", default: "10000" },
    interval: { type: "string", default: "5s" },
    seconds: { type: "string", default: "60" },
  },
});
const siteCount = Number(values.sites);
const intervalMs = parseDurationMs(values.interval) ?? NaN;
const seconds = Number(values.seconds);

const id = crypto.randomUUID().slice(0, 8);
const schema = `bench_${id}`;
const env = {
  PATH: Deno.env.get("PATH") ?? "",
  HOME: Deno.env.get("HOME") ?? "",
  KAFKA_BROKERS: Deno.env.get("KAFKA_BROKERS") ?? "",
  DATABASE_URL: Deno.env.get("DATABASE_URL") ?? "",
  KAFKA_TOPIC: `bench-pipeline-${id}`,
  KAFKA_GROUP_ID: `bench-pipeline-${id}`,
  DATABASE_SCHEMA: schema,
  CHECK_CONCURRENCY: "500",
  LOG_LEVEL: "info",
};
const mod = new URL("../../mod.ts", import.meta.url).pathname;

const target = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-net", "--allow-env", new URL("target.ts", import.meta.url).pathname],
  env: { DELAY_MS: "5" },
  stdout: "piped",
}).spawn();
const reader = target.stdout.pipeThrough(new TextDecoderStream()).getReader();
const port = Number((await reader.read()).value?.trim());

const dir = await Deno.makeTempDir();
const sitesFile = `${dir}/sites.yaml`;
const lines = ["sites:"];
for (let i = 0; i < siteCount; i++) {
  lines.push(`  - id: site-${i}`, `    url: http://127.0.0.1:${port}/?site=${i}`);
  lines.push(`    interval: ${values.interval}`, `    pattern: "status: ok"`);
}
await Deno.writeTextFile(sitesFile, lines.join("\n"));

/** Stops a `monitor` process (SIGTERM); a failed exit fails the benchmark, with its log. */
async function stop(child: MonitorProcess, name: string): Promise<void> {
  const { code } = await child.stop();
  if (code !== 0) throw new Error(`monitor ${name} failed:\n${child.log()}`);
}

const sql = connectDatabase({ url: env.DATABASE_URL, tls: null, schema });
try {
  const migrated = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", mod, "migrate"],
    env,
    clearEnv: true,
  }).output();
  if (!migrated.success) throw new Error(new TextDecoder().decode(migrated.stderr));

  console.log(
    `${siteCount} sites every ${values.interval} (${
      Math.round(siteCount * 1000 / intervalMs)
    } checks/s due) for ${seconds} s…`,
  );
  // The whole environment is given: a LOG_FORMAT or METRICS_PORT of the shell must not leak in.
  const consumer = spawnMonitor(["consume"], env, { clearEnv: true });
  const producer = spawnMonitor(["produce", "--config", sitesFile], env, { clearEnv: true });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await stop(producer, "produce");
  const published = Number(/producer stopped published=(\d+)/.exec(producer.log())?.[1]);
  const skipped = [...producer.log().matchAll(/skipped=(\d+)/g)].at(-1)?.[1] ?? "0";

  const drainStart = performance.now();
  for (;;) {
    const [{ n }] = await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM checks`;
    if (n >= published || performance.now() - drainStart > 60_000) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop(consumer, "consume");

  const [stats] = await sql<
    [{
      rows: number;
      distinct_ids: number;
      first: Date;
      last: Date;
      p50: number;
      p99: number;
      max: number;
    }]
  >`
    SELECT count(*)::int AS rows, count(DISTINCT check_id)::int AS distinct_ids,
           min(checked_at) AS first, max(checked_at) AS last,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY delay) AS p50,
           percentile_disc(0.99) WITHIN GROUP (ORDER BY delay) AS p99,
           max(delay) AS max
    FROM (
      SELECT check_id, checked_at,
             extract(epoch FROM stored_at - checked_at)::float8 * 1000 AS delay
      FROM checks
    ) AS d`;
  const spanSeconds = (stats.last.getTime() - stats.first.getTime()) / 1000;
  const rate = stats.rows / spanSeconds;
  const due = siteCount * 1000 / intervalMs;
  console.log(`published by the producer:   ${published} (skipped as still running: ${skipped})`);
  console.log(
    `rows in checks:              ${stats.rows} (${stats.distinct_ids} distinct ids) — ${
      stats.rows === published && stats.distinct_ids === published
        ? "every check accounted for"
        : "MISMATCH"
    }`,
  );
  console.log(
    `stored checks per second:    ${Math.round(rate)} (${(rate / due).toFixed(2)}× the checks due)`,
  );
  console.log(
    `checked_at → stored_at:      p50 ${Math.round(stats.p50)} ms, p99 ${
      Math.round(stats.p99)
    } ms, max ${Math.round(stats.max)} ms`,
  );
} finally {
  await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  await sql.end({ timeout: 5 });
  target.kill();
  await target.status;
  await Deno.remove(dir, { recursive: true });
}
