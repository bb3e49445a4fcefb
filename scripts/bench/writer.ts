/**
 * Benchmark: how fast does `monitor consume` move check results from the topic into the
 * partitioned table, next to PostgreSQL's own COPY of the same rows as the ceiling?
 *
 *   deno task bench:writer [--rows 200000] [--sites 1000] [--regions 1] [--repeat 3]
 *
 * Publishes the rows to a fresh topic first (not timed), then runs the real consumer
 * (`runConsumer`: decode, validate, one statement per batch with sites and rollups, commit) on a
 * fresh schema and times it until every row is visible; then COPYs the same rows into the `checks`
 * table of another fresh schema. Prints rows per second of both and their ratio, for each of
 * `--repeat` runs (a new consumer group and schemas each time) and their median: the machines are
 * shared and one run's ratio can be off by a third. With `--regions N`, each site is checked from N
 * regions in turn (every site once from one region, then from the next), so each site has N
 * rollup rows an hour.
 *
 * It also splits the CPU a stored message costs by stage: the consumer process's CPU during the
 * run (`process.cpuUsage`), of which the Kafka library's part is a pass over the same topic with a
 * handler that does nothing, and JSON and validation are timed alone over the same messages; the
 * rest is the writer's code with postgres.js. PostgreSQL's CPU is the sum over its processes in
 * `/proc`, when it runs on this machine, for the writer and for COPY alike.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import type { CheckResult } from "../../src/check/result.ts";
import { runConsumer } from "../../src/cli/consume.ts";
import { readSettings } from "../../src/config/settings.ts";
import { connectDatabase, type Sql } from "../../src/db/client.ts";
import { loadMigrations, migrate } from "../../src/db/migrate.ts";
import { ensurePartitions } from "../../src/db/partitions.ts";
import { ensureTopic } from "../../src/kafka/admin.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { decodeCheckResult, encodeCheckResult } from "../../src/kafka/codec.ts";
import { startConsumer } from "../../src/kafka/consumer.ts";
import { deleteTopic, openTestProducer } from "../../tests/_helpers/kafka.ts";
import { SILENT } from "../../src/log.ts";
import { createMetrics } from "../../src/metrics.ts";
import { makeResult } from "../../tests/_helpers/results.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "200000" },
    sites: { type: "string", default: "1000" },
    regions: { type: "string", default: "1" },
    repeat: { type: "string", default: "3" },
  },
});
const rowCount = Number(values.rows);
const siteCount = Number(values.sites);
const regionCount = Number(values.regions);
const repeatCount = Number(values.repeat);

const id = crypto.randomUUID().slice(0, 8);
const env = {
  KAFKA_BROKERS: Deno.env.get("KAFKA_BROKERS") ?? "",
  DATABASE_URL: Deno.env.get("DATABASE_URL") ?? "",
  KAFKA_TOPIC: `bench-writer-${id}`,
  KAFKA_GROUP_ID: `bench-writer-${id}`,
  KAFKA_TOPIC_PARTITIONS: "6",
  DATABASE_SCHEMA: `bench_${id}`,
  LOG_LEVEL: "warn",
  ...(Deno.env.has("CONSUME_BATCH_BYTES")
    ? { CONSUME_BATCH_BYTES: Deno.env.get("CONSUME_BATCH_BYTES")! }
    : {}),
};
const settings = readSettings(env);
const kafka = createKafka(settings.kafka, SILENT);

/** A fresh, migrated schema; the pool's search path points at it. */
async function freshSchema(schema: string): Promise<Sql> {
  const sql = connectDatabase({ ...settings.database, schema });
  await migrate(sql, await loadMigrations(), { log: SILENT, schema });
  await ensurePartitions(sql, new Date(), 1);
  return sql;
}

function makeResults(): CheckResult[] {
  const now = Date.now();
  return Array.from({ length: rowCount }, (_, i) => {
    const up = i % 50 !== 0;
    const region = `region-${Math.floor(i / siteCount) % regionCount}`;
    return makeResult({
      siteId: `site-${i % siteCount}`,
      siteName: `Site ${i % siteCount}`,
      url: `https://site-${i % siteCount}.example/health`,
      // The last hour, in order, as checks arrive
      checkedAt: new Date(now - 3_600_000 + Math.floor((i / rowCount) * 3_600_000)).toISOString(),
      timeToHeadersMs: 10 + (i % 97),
      responseTimeMs: up ? 12 + (i % 389) : null,
      statusCode: up ? 200 : null,
      region,
      checker: `checker.${region}:1`,
      up,
      error: up ? null : { kind: "timeout", message: "No complete response within the timeout" },
    });
  });
}

async function publish(results: readonly CheckResult[]): Promise<void> {
  await ensureTopic(kafka, {
    topic: settings.kafka.topic,
    partitions: settings.kafka.topicPartitions,
    replicationFactor: -1,
  }, SILENT);
  const producer = await openTestProducer(kafka);
  try {
    for (let i = 0; i < results.length; i += 10_000) {
      await producer.send({
        topic: settings.kafka.topic,
        messages: results.slice(i, i + 10_000).map(encodeCheckResult),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

async function countRows(sql: Sql): Promise<number> {
  const [row] = await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM checks`;
  return row.n;
}

/** This process's CPU microseconds (user + system) since `since`. */
function processMicros(since?: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

/**
 * CPU microseconds used so far by every local `postgres` process, or NaN when none is visible
 * (PostgreSQL runs elsewhere). Backends live as long as the pool, so a run's difference is its cost.
 */
function postgresMicros(): number {
  let ticks = 0;
  let found = false;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (!stat.includes("(postgres)")) continue;
      const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
      found = true;
    } catch {
      // The process ended while we looked.
    }
  }
  return found ? ticks * 10_000 : NaN; // USER_HZ is 100
}

/** CPU microseconds a message of the Kafka library: the topic read with a handler doing nothing. */
async function kafkaMicros(groupId: string): Promise<number> {
  let handled = 0;
  const cpu = process.cpuUsage();
  const consumer = await startConsumer({
    kafka,
    topic: settings.kafka.topic,
    groupId,
    log: SILENT,
    handle: (batch) => {
      handled += batch.messages.length;
      return Promise.resolve();
    },
  });
  const deadline = Date.now() + 120_000;
  try {
    while (handled < rowCount) {
      if (Date.now() > deadline) throw new Error(`Read ${handled} of ${rowCount} in 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await consumer.stop();
  }
  return processMicros(cpu) / rowCount;
}

/** CPU microseconds a message of JSON alone and of decoding with validation, over the same bytes. */
function decodeMicros(results: readonly CheckResult[]): { json: number; decode: number } {
  const values = results.map((r) => new TextEncoder().encode(encodeCheckResult(r).value));
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const time = (work: (value: Uint8Array) => unknown) => {
    const cpu = process.cpuUsage();
    for (const value of values) work(value);
    return processMicros(cpu) / values.length;
  };
  time((value) => decodeCheckResult(value)); // warm up
  return {
    json: time((value) => JSON.parse(utf8.decode(value))),
    decode: time((value) => decodeCheckResult(value)),
  };
}

/**
 * Runs the consumer until it has committed every row; seconds from start and from the first row.
 * Progress is read from the consumer's own metrics, not by counting rows (a count(*) every 100 ms
 * would take a good part of PostgreSQL's time from the writer it measures).
 */
async function timeConsumer(
  sql: Sql,
  groupId: string,
): Promise<{ total: number; steady: number; first: number; cpu: number; postgres: number }> {
  const stop = new AbortController();
  const cpu = process.cpuUsage();
  const postgresBefore = postgresMicros();
  const metrics = createMetrics();
  const written = () =>
    Number(/^monitor_rows_written_total (\d+)$/m.exec(metrics.registry.metrics())?.[1] ?? 0);
  const started = performance.now();
  const consuming = runConsumer({
    settings: { ...settings, kafka: { ...settings.kafka, groupId } },
    kafka,
    sql,
    log: SILENT,
    metrics,
    signal: stop.signal,
  });
  let firstAt = 0;
  let firstRows = 0;
  for (;;) {
    const rows = written();
    if (rows > 0 && firstAt === 0) [firstAt, firstRows] = [performance.now(), rows];
    if (rows >= rowCount) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const done = performance.now();
  stop.abort();
  await consuming;
  const used = { cpu: processMicros(cpu), postgres: postgresMicros() - postgresBefore };
  const stored = await countRows(sql);
  if (stored !== rowCount) throw new Error(`The consumer stored ${stored} rows of ${rowCount}`);
  return {
    total: (done - started) / 1000,
    steady: (done - firstAt) / 1000,
    first: firstRows,
    cpu: used.cpu / rowCount,
    postgres: used.postgres / rowCount,
  };
}

/** COPY of the same rows into `checks`: what PostgreSQL itself can take, and its CPU a row. */
async function timeCopy(
  sql: Sql,
  results: readonly CheckResult[],
): Promise<{ seconds: number; postgres: number }> {
  const text = (v: string | number | boolean | null) =>
    v === null ? "\\N" : typeof v === "boolean" ? (v ? "t" : "f") : String(v);
  // Any id will do for the ceiling: the writer derives it from the site's name, URL and pattern.
  const versions = new Map(results.map((r) => [r.siteId, crypto.randomUUID()]));
  const lines = results.map((r) =>
    [
      r.checkId,
      r.siteId,
      versions.get(r.siteId)!,
      r.checkedAt,
      r.timeToHeadersMs,
      r.responseTimeMs,
      r.statusCode,
      r.patternMatched,
      r.certExpiresAt,
      r.up,
      r.error?.kind ?? null,
      r.error?.message ?? null,
      r.version,
      r.region,
      r.checker,
    ].map(text).join("\t") + "\n"
  );
  const postgresBefore = postgresMicros();
  const started = performance.now();
  const stream = await sql`
    COPY checks (check_id, site_id, site_version_id, checked_at, time_to_headers_ms,
                 response_time_ms, status_code, pattern_matched, cert_expires_at, up, error_kind,
                 error_message, message_version, region, checker)
    FROM STDIN`.writable();
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("finish", resolve);
    for (let i = 0; i < lines.length; i += 5_000) stream.write(lines.slice(i, i + 5_000).join(""));
    stream.end();
  });
  const seconds = (performance.now() - started) / 1000;
  const postgres = (postgresMicros() - postgresBefore) / results.length;
  if ((await countRows(sql)) !== results.length) throw new Error("COPY lost rows");
  return { seconds, postgres };
}

const results = makeResults();
console.log(`publishing ${rowCount} results of ${siteCount} sites to ${settings.kafka.topic}…`);
await publish(results);

const f = (n: number) => Math.round(n).toLocaleString("en");
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const µs = (n: number) => Number.isNaN(n) ? "n/a (not local)" : `${n.toFixed(1)} µs`;
const runs: {
  writer: number;
  start: number;
  copy: number;
  cpu: number;
  postgres: number;
  copyPostgres: number;
}[] = [];
try {
  const kafkaCpu = await kafkaMicros(`${settings.kafka.groupId}-kafka`);
  const { json, decode } = decodeMicros(results);
  for (let run = 1; run <= repeatCount; run++) {
    const schema = `bench_${id}_${run}`;
    const writerSql = await freshSchema(schema);
    const copySql = await freshSchema(`${schema}_copy`);
    try {
      const writer = await timeConsumer(writerSql, `${settings.kafka.groupId}-${run}`);
      const copy = await timeCopy(copySql, results);
      const figures = {
        writer: (rowCount - writer.first) / writer.steady,
        start: rowCount / writer.total,
        copy: rowCount / copy.seconds,
        cpu: writer.cpu,
        postgres: writer.postgres,
        copyPostgres: copy.postgres,
      };
      runs.push(figures);
      console.log(
        `run ${run}: monitor consume ${f(figures.writer)} rows/s (first row to last; ${
          f(figures.start)
        } from start, joining the group), COPY ${f(figures.copy)} rows/s: ${
          (figures.writer / figures.copy).toFixed(2)
        }×; CPU a row: consumer ${µs(figures.cpu)}, PostgreSQL ${µs(figures.postgres)} (COPY ${
          µs(figures.copyPostgres)
        })`,
      );
    } finally {
      for (const [sql, name] of [[writerSql, schema], [copySql, `${schema}_copy`]] as const) {
        await sql`DROP SCHEMA ${sql(name)} CASCADE`;
        await sql.end({ timeout: 5 });
      }
    }
  }
  console.log(
    `rows:                         ${f(rowCount)} of ${
      f(siteCount)
    } sites from ${regionCount} region(s), ${repeatCount} runs`,
  );
  console.log(`monitor consume (median):     ${f(median(runs.map((r) => r.writer)))} rows/s`);
  console.log(`COPY into checks (median):    ${f(median(runs.map((r) => r.copy)))} rows/s`);
  console.log(
    `writer / COPY (median):       ${median(runs.map((r) => r.writer / r.copy)).toFixed(2)}×`,
  );
  const cpu = median(runs.map((r) => r.cpu));
  console.log(
    `CPU a row (median), consumer: ${µs(cpu)} = Kafka library ${µs(kafkaCpu)} + JSON ${
      µs(json)
    } + validation ${µs(decode - json)} + writer with postgres.js ${µs(cpu - kafkaCpu - decode)}`,
  );
  console.log(
    `CPU a row (median), PostgreSQL: ${µs(median(runs.map((r) => r.postgres)))} (COPY ${
      µs(median(runs.map((r) => r.copyPostgres)))
    })`,
  );
} finally {
  await deleteTopic(kafka, settings.kafka.topic);
}
