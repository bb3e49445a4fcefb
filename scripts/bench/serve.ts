/**
 * Benchmark (#24): `monitor serve` at scale. Generates, with SQL in a fresh schema, `--sites`
 * sites × 3 regions × `--days` days of hourly rollups (and the daily ones from them) and about
 * `--checks` checks over the last day, then runs `--concurrency` fetch loops for `--seconds` against each route in turn and prints
 * p50/p95/p99 of the server's time (the handler, from request to finished body), with the ratio to
 * a baseline measured in the same run (a 404, which touches no database). Ends with EXPLAIN
 * (ANALYZE, BUFFERS) of one page of a site's checks, the figure that estimates 100 M checks.
 *
 *   deno task bench:serve [--sites 10000] [--days 90] [--checks 3000000] [--concurrency 4] [--seconds 10]
 *
 * Needs PostgreSQL (`DATABASE_URL`; the task starts the local services when unset); drops its
 * schema at the end unless BENCH_KEEP=1.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readSettings } from "../../src/config/settings.ts";
import { connectDatabase } from "../../src/db/client.ts";
import { loadMigrations, migrate } from "../../src/db/migrate.ts";
import { SILENT } from "../../src/log.ts";
import { createMetrics } from "../../src/metrics.ts";
import { serveHandler } from "../../src/serve/app.ts";
import { databaseReads } from "../../src/db/reads.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sites: { type: "string", default: "10000" },
    days: { type: "string", default: "90" },
    checks: { type: "string", default: "3000000" },
    concurrency: { type: "string", default: "4" },
    seconds: { type: "string", default: "10" },
  },
});
const SITES = Number(values.sites);
const DAYS = Number(values.days);
const CHECKS = Number(values.checks);
const CONCURRENCY = Number(values.concurrency);
const SECONDS = Number(values.seconds);
const REGIONS = ["ap", "eu", "us"];
const DAY_MS = 86_400_000;
const CHUNK = 500;

const schema = `bench_serve_${crypto.randomUUID().slice(0, 8)}`;
const settings = readSettings({ ...Deno.env.toObject(), DATABASE_SCHEMA: schema });
const sql = connectDatabase(settings.database);
const siteId = (i: number) => `s${String(i).padStart(5, "0")}`;

/** Sites, rollups (hourly, every region, `DAYS` days to now) and the last day's checks. */
async function generate(now: Date) {
  const first = new Date(now.getTime() - DAYS * DAY_MS);
  await sql`SELECT monitor_ensure_partitions(${first}::date, ${now}::date + 1)`;
  await sql`
    INSERT INTO sites (site_id, name, url, first_checked_at, changed_at)
    SELECT 's' || lpad(i::text, 5, '0'), 'Site ' || i, 'https://s' || i || '.example/',
      ${first}, ${first}
    FROM generate_series(0, ${SITES - 1}::int) AS i`;
  let started = performance.now();
  // A site checked once a minute per region: 60 checks an hour, now and then a bad hour.
  for (let from = 0; from < SITES; from += CHUNK) {
    await sql`
      INSERT INTO check_rollups_hourly (site_id, hour, region, checks, failures, responses,
        response_time_ms_sum, response_time_histogram, dns_ms_count, dns_ms_sum, connect_ms_count,
        connect_ms_sum, first_byte_ms_count, first_byte_ms_sum, transfer_ms_count, transfer_ms_sum)
      SELECT 's' || lpad(i::text, 5, '0'), hour, region, 60, f, 60 - f, (60 - f) * 30.0,
        array_fill(0, ARRAY[38]) || ARRAY[50 - f, 8, 2], 60, 60, 60, 45, 60, 1500, 60, 30
      FROM generate_series(${from}::int, ${Math.min(SITES, from + CHUNK) - 1}::int) AS i,
        unnest(${REGIONS}::text[]) AS region,
        generate_series(date_trunc('hour', ${first}::timestamptz, 'UTC'),
          date_trunc('hour', ${now}::timestamptz, 'UTC'), interval '1 hour') AS hour,
        LATERAL (SELECT CASE WHEN hashtext(i || region || hour) % 997 = 0 THEN 30 ELSE 0 END
          AS f) AS failures`;
    if (from % 2000 === 0) {
      console.error(`rollups: ${from + CHUNK} sites (${elapsed(started)})`);
    }
  }
  const [{ rollups }] = await sql<
    [{ rollups: number }]
  >`SELECT count(*)::int AS rollups FROM check_rollups_hourly`;
  console.log(`rollups: ${rollups} rows in ${elapsed(started)}`);
  started = performance.now();
  // In the order the writer makes them: a day's rows together, its sites in no order.
  await sql`
    INSERT INTO check_rollups_daily (site_id, day, checks, failures)
    SELECT site_id, date_trunc('day', hour, 'UTC'), sum(checks), sum(failures)
    FROM check_rollups_hourly GROUP BY 1, 2 ORDER BY 2, hashtext(site_id)`;
  console.log(`daily rollups: ${elapsed(started)}`);
  started = performance.now();
  const perSiteRegion = Math.max(1, Math.round(CHECKS / SITES / REGIONS.length));
  const stepMs = Math.floor(DAY_MS / perSiteRegion);
  await sql`
    INSERT INTO checks (check_id, site_id, site_version_id, checked_at, region, checker,
      response_time_ms, dns_ms, connect_ms, first_byte_ms, transfer_ms, status_code, up,
      message_version)
    SELECT gen_random_uuid(), 's' || lpad(i::text, 5, '0'), gen_random_uuid(),
      ${now}::timestamptz - (n * ${stepMs} + i % 1000) * interval '1 ms', region, 'bench:1',
      30, 1, 0.75, 25, 0.5, 200, true, 2
    FROM generate_series(0, ${SITES - 1}::int) AS i, unnest(${REGIONS}::text[]) AS region,
      generate_series(0, ${perSiteRegion - 1}::int) AS n`;
  const [{ checks }] = await sql<[{ checks: number }]>`SELECT count(*)::int AS checks FROM checks`;
  console.log(`checks: ${checks} rows in ${elapsed(started)}`);
  started = performance.now();
  await sql`VACUUM ANALYZE check_rollups_hourly`;
  await sql`VACUUM ANALYZE check_rollups_daily`;
  await sql`VACUUM ANALYZE checks`;
  await sql`ANALYZE sites`;
  console.log(`vacuum analyze: ${elapsed(started)}`);
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** The 0..1 quantile of sorted times. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Server times of every request to `path()` made by the loops over `SECONDS`. */
async function load(origin: string, path: () => string, times: number[]): Promise<number> {
  times.length = 0;
  const deadline = performance.now() + SECONDS * 1000;
  let failures = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      const response = await fetch(origin + path());
      await response.arrayBuffer();
      if (response.status >= 500) failures++;
    }
  }));
  return failures;
}

const now = new Date();
const handler = serveHandler({
  reads: databaseReads(sql, null),
  now: () => new Date(),
  showUrls: false,
  apiToken: null,
  metrics: createMetrics(),
  health: () => Promise.resolve({ database: "ok" }),
  log: SILENT,
});
const times: number[] = [];
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  const started = performance.now();
  const response = await handler(req);
  times.push(performance.now() - started);
  return response;
});
const origin = `http://127.0.0.1:${server.addr.port}`;
const randomSite = () => siteId(Math.floor(Math.random() * SITES));

try {
  await migrate(sql, await loadMigrations(), { log: SILENT, schema });
  await generate(now);
  console.log(
    `load: ${CONCURRENCY} concurrent fetch loops, ${SECONDS} s per route, one process (server and client), ${navigator.hardwareConcurrency} cores`,
  );
  const routes: [string, () => string][] = [
    ["404 (baseline)", () => "/nothing-here"],
    ["/api/v1/sites (a random page of 50)", () => `/api/v1/sites?after=${randomSite()}`],
    ["/api/v1/sites (first page)", () => "/api/v1/sites"],
    ["/ (status page, first 50 sites)", () => "/"],
    ["/ (status page, a random page)", () => `/?after=${randomSite()}`],
    ["/api/v1/sites/{id}/checks (100, random site)", () => `/api/v1/sites/${randomSite()}/checks`],
  ];
  let baseline = NaN;
  console.log("route | requests | p50 ms | p95 ms | p99 ms | p99 / baseline p99");
  for (const [name, path] of routes) {
    await load(origin, path, times); // warm up: plans, caches, connections
    const failures = await load(origin, path, times);
    const sorted = times.toSorted((a, b) => a - b);
    const p99 = quantile(sorted, 0.99);
    if (Number.isNaN(baseline)) baseline = p99;
    console.log(
      `${name} | ${sorted.length}${failures ? ` (${failures} failed)` : ""} | ${
        quantile(sorted, 0.5).toFixed(1)
      } | ${quantile(sorted, 0.95).toFixed(1)} | ${p99.toFixed(1)} | ${
        (p99 / baseline).toFixed(0)
      }×`,
    );
  }
  // The same statement as siteChecks(), for one site's latest page.
  const plan = await sql.unsafe(
    `EXPLAIN (ANALYZE, BUFFERS)
    SELECT check_id, checked_at, region, up, status_code, response_time_ms, dns_ms, connect_ms,
      tls_ms, first_byte_ms, transfer_ms, error_kind, error_message
    FROM checks
    WHERE site_id = $1 AND checked_at >= $2 AND checked_at < $3
    ORDER BY checked_at DESC, check_id DESC
    LIMIT 100`,
    [randomSite(), new Date(now.getTime() - DAY_MS), new Date(now.getTime() + 1000)],
  );
  console.log(plan.map((row) => row["QUERY PLAN"]).join("\n"));
} finally {
  await server.shutdown();
  // BENCH_KEEP=1 leaves the data for EXPLAIN by hand (drop the schema after).
  if (Deno.env.get("BENCH_KEEP") === "1") console.log(`schema ${schema} kept`);
  else await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  await sql.end({ timeout: 5 });
}
