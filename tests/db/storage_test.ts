import assert from "node:assert/strict";
import type { Sql } from "../../src/db/client.ts";
import { ensurePartitionsFor, prune } from "../../src/db/partitions.ts";
import { storeBatch } from "../../src/db/results.ts";
import { monitor } from "../_helpers/cli.ts";
import type { CheckResult } from "../../src/check/result.ts";
import { asMessages, makeResult } from "../_helpers/results.ts";
import { rollupMismatches } from "../_helpers/rollups.ts";
import { testEnv, withDatabase } from "../_helpers/services.ts";

const DAY_MS = 86_400_000;

async function partitionsOf(sql: Sql, parent: string): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name
    FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhparent = ${parent}::regclass
    ORDER BY 1`;
  return rows.map((r) => r.name);
}

async function count(sql: Sql, table: "checks" | "sites" | "check_rollups_hourly") {
  const [row] = await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM ${sql(table)}`;
  return row.n;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
}

/** Each phase of a check with its column in `site_uptime`. */
const PHASES = [
  ["dnsMs", "dns_ms_avg"],
  ["connectMs", "connect_ms_avg"],
  ["tlsMs", "tls_ms_avg"],
  ["firstByteMs", "first_byte_ms_avg"],
  ["transferMs", "transfer_ms_avg"],
] as const;

/** Random times for every phase, each one missing (null) with probability `missing`. */
function randomPhases(next: () => number, missing: number) {
  const time = () => next() < missing ? null : Math.round(next() * 200_000) / 1_000;
  return Object.fromEntries(PHASES.map(([phase]) => [phase, time()])) as {
    [P in typeof PHASES[number][0]]: number | null;
  };
}

Deno.test("monitor migrate leaves partitions for today and the coming days", async () => {
  const env = testEnv({ DATABASE_PARTITIONS_AHEAD_DAYS: "3" });
  await withDatabase(env, async (sql) => {
    const run = monitor(["migrate"], env);
    assert.equal(await run.code, 0, run.err());
    const days = await partitionsOf(sql, "checks");
    for (let i = -1; i <= 3; i++) {
      const day = new Date(Date.now() + i * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "");
      assert.ok(days.includes(`checks_${day}`), `checks_${day} in ${days.join(", ")}`);
    }
    const month = new Date().toISOString().slice(0, 7).replace("-", "");
    for (const table of ["check_rollups_hourly", "check_rollups_daily"]) {
      assert.ok((await partitionsOf(sql, table)).includes(`${table}_${month}`), table);
    }
  }, { migrated: false });
});

Deno.test("storeBatch() stores a check whose day has no partition yet instead of losing it", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const old = makeResult({ checkedAt: "2019-06-30T23:59:59.999Z" });
    const future = makeResult({ checkedAt: "2040-01-01T00:00:00.000Z" });
    assert.equal((await storeBatch(sql, asMessages([old, future, makeResult()]))).inserted, 3);
    const days = await partitionsOf(sql, "checks");
    assert.ok(days.includes("checks_20190630") && days.includes("checks_20400101"));
    assert.equal(await count(sql, "checks"), 3);
  });
});

Deno.test("storeBatch() given a batch again adds no checks, rollup counts or site changes", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const results = Array.from(
      { length: 40 },
      (_, i) =>
        makeResult({ siteId: `site-${i % 4}`, region: ["eu", "us"][Math.floor(i / 4) % 2]! }),
    );
    await storeBatch(sql, asMessages(results));
    const before = await sql`SELECT * FROM check_rollups_hourly ORDER BY site_id, hour, region`;
    const sitesBefore = await sql`SELECT * FROM sites ORDER BY site_id`;
    assert.deepEqual(await storeBatch(sql, asMessages(results)), {
      inserted: 0,
      duplicates: 40,
      rejected: 0,
    });
    assert.deepEqual(
      await sql`SELECT * FROM check_rollups_hourly ORDER BY site_id, hour, region`,
      before,
    );
    assert.deepEqual(await sql`SELECT * FROM sites ORDER BY site_id`, sitesBefore);
    assert.equal(await count(sql, "checks"), 40);
    assert.equal(before.reduce((sum, r) => sum + r.checks, 0), 40);
    assert.deepEqual(await rollupMismatches(sql), []);
  });
});

Deno.test("sites take the latest name and URL and their earliest check; a late older check does not undo a change", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 24, 10, minute)).toISOString();
    await storeBatch(
      sql,
      asMessages([
        makeResult({ siteId: "s", siteName: "Old", url: "https://old.example/", checkedAt: at(1) }),
        makeResult({ siteId: "s", siteName: "New", url: "https://new.example/", checkedAt: at(2) }),
      ]),
    );
    await storeBatch(
      sql,
      asMessages([
        makeResult({ siteId: "s", siteName: "Old", url: "https://old.example/", checkedAt: at(0) }),
      ]),
    );
    const rows = await sql`SELECT name, url, first_checked_at, changed_at FROM sites`;
    assert.deepEqual(rows.map((r) => ({ ...r })), [{
      name: "New",
      url: "https://new.example/",
      first_checked_at: new Date(at(0)),
      changed_at: new Date(at(2)),
    }]);
  });
});

Deno.test("hourly rollups equal a recomputation from the raw rows, percentiles within a bucket", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const next = random(7);
    const start = Date.UTC(2026, 10, 20, 22, 0);
    const results = Array.from({ length: 3_000 }, () => {
      const up = next() > 0.1;
      const responseTimeMs = up || next() > 0.5 ? Math.exp(next() * 9) - 0.5 : null;
      return makeResult({
        siteId: `site-${Math.floor(next() * 5)}`,
        region: next() < 0.5 ? "eu" : "us",
        checkedAt: new Date(start + Math.floor(next() * 5 * 3_600_000)).toISOString(),
        responseTimeMs: responseTimeMs === null ? null : Math.max(0, responseTimeMs),
        timeToHeadersMs: responseTimeMs === null ? null : 0.1,
        ...randomPhases(next, 0.3),
        up,
        error: up ? null : { kind: "unexpected_status", message: "Status 500" },
      });
    });
    // Overlapping batches: redeliveries, and every hour written to by many batches.
    for (let i = 0; i < results.length; i += 400) {
      await storeBatch(sql, asMessages(results.slice(Math.max(0, i - 100), i + 400)));
    }

    assert.deepEqual(await rollupMismatches(sql), []);
    assert.equal(await count(sql, "checks"), 3_000);
    assert.equal(await count(sql, "check_rollups_hourly"), 5 * 5 * 2);

    // The percentile of the merged histograms lies in the bucket of the exact percentile.
    const quantiles = await sql`
      WITH exact AS (
        SELECT site_id, q,
               percentile_disc(q) WITHIN GROUP (ORDER BY response_time_ms) AS value
        FROM checks, unnest(ARRAY[0.5, 0.95, 0.99]::float8[]) AS q
        GROUP BY site_id, q
      ),
      approximate AS (
        SELECT site_id, q,
               monitor_histogram_quantile(monitor_histogram_sum(response_time_histogram), q) AS value
        FROM check_rollups_hourly, unnest(ARRAY[0.5, 0.95, 0.99]::float8[]) AS q
        GROUP BY site_id, q
      )
      SELECT e.site_id, e.q, e.value AS exact, a.value AS approximate,
             monitor_response_bucket(e.value) = monitor_response_bucket(a.value) AS same_bucket
      FROM exact AS e JOIN approximate AS a USING (site_id, q)`;
    assert.equal(quantiles.length, 15);
    for (const q of quantiles) {
      assert.ok(q.same_bucket, `${q.site_id} q=${q.q}: ${q.exact} vs ${q.approximate}`);
      assert.ok(Math.abs(q.approximate - q.exact) <= 0.045 * q.exact + 0.5);
    }
  });
});

Deno.test("writers storing the same sites and hours at once keep the rollups exact", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const next = random(11);
    const start = Date.UTC(2026, 10, 21, 0, 0);
    // Each round starts new hours, so both writers find no rollup row and insert one at once.
    for (let round = 0; round < 10; round++) {
      const batch = () =>
        Array.from({ length: 50 }, () =>
          makeResult({
            siteId: `site-${Math.floor(next() * 3)}`,
            region: next() < 0.5 ? "eu" : "us",
            checkedAt: new Date(start + round * 3_600_000 + Math.floor(next() * 3_600_000))
              .toISOString(),
            responseTimeMs: next() * 500,
          }));
      await Promise.all([
        storeBatch(sql, asMessages(batch())),
        storeBatch(sql, asMessages(batch())),
      ]);
    }
    assert.deepEqual(await rollupMismatches(sql), []);
    assert.equal(await count(sql, "checks"), 1_000);
  });
});

Deno.test("monitor_histogram_add_buckets() and monitor_histogram_merge() count bucket by bucket", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const next = random(5);
    const histogram = (length: number) => Array.from({ length }, () => Math.floor(next() * 4));
    const sum = (a: number[], b: number[]) =>
      Array.from({ length: Math.max(a.length, b.length) }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
    for (let i = 0; i < 30; i++) {
      const a = histogram(Math.floor(next() * 12));
      const b = histogram(Math.floor(next() * 12));
      const buckets = Array.from(
        { length: Math.floor(next() * 5) },
        () => 1 + Math.floor(next() * 15),
      );
      const expected = [...a];
      for (const bucket of buckets) {
        while (expected.length < bucket) expected.push(0);
        expected[bucket - 1]! += 1;
      }
      const [row] = await sql`
        SELECT monitor_histogram_merge(${a}::int[], ${b}::int[]) AS merged,
               monitor_histogram_add_buckets(${a}::int[], ${buckets}::int[]) AS added`;
      assert.deepEqual(row?.merged, sum(a, b), `merge ${a} + ${b}`);
      assert.deepEqual(row?.added, expected, `add ${buckets} to ${a}`);
    }
    const [edge] = await sql`
      SELECT monitor_histogram_add_buckets('{}', NULL) AS nothing,
             monitor_histogram_add_buckets(NULL, '{3}') AS from_null,
             monitor_histogram_merge('{}', '{}') AS empty`;
    assert.deepEqual({ ...edge }, { nothing: [], from_null: [0, 0, 1], empty: [] });
  });
});

Deno.test("site_uptime reports uptime and percentiles per site and window", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const now = Date.now();
    const minutesAgo = (m: number) => new Date(now - m * 60_000).toISOString();
    await storeBatch(
      sql,
      asMessages([
        makeResult({ siteId: "a", checkedAt: minutesAgo(1), responseTimeMs: 100 }),
        makeResult({ siteId: "a", checkedAt: minutesAgo(2), responseTimeMs: 200 }),
        makeResult({
          siteId: "a",
          checkedAt: minutesAgo(3 * 24 * 60),
          responseTimeMs: null,
          up: false,
          error: { kind: "timeout", message: "No complete response within the timeout" },
        }),
      ]),
    );
    const rows = await sql`
      SELECT "window", checks::int, failures::int, uptime, response_time_ms_p50 AS p50,
             response_time_ms_p99 AS p99
      FROM site_uptime WHERE site = 'a' ORDER BY since DESC`;
    // The middle of the bucket holding the value (see sql/0001_schema.sql).
    const middle = (ms: number) => 2 ** ((Math.floor(8 * Math.log2(ms)) + 0.5) / 8);
    const rounded = (ms: number) => Math.round(ms * 1e6) / 1e6;
    assert.deepEqual(
      rows.map((r) => ({ ...r, p50: rounded(r.p50), p99: rounded(r.p99) })),
      [["1h", 2, 0, 1], ["24h", 2, 0, 1], ["7d", 3, 1, 2 / 3], ["30d", 3, 1, 2 / 3]].map((
        [window, checks, failures, uptime],
      ) => ({
        window,
        checks,
        failures,
        uptime,
        p50: rounded(middle(100)),
        p99: rounded(middle(200)),
      })),
    );
  });
});

Deno.test("site_uptime averages each phase over the checks that had it, per site and window", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const next = random(16);
    const now = Date.now();
    const results = Array.from({ length: 900 }, (_, i) => {
      const siteId = ["https", "http", "none"][i % 3]!;
      const checkedAt = new Date(now - Math.floor(next() * 3 * 86_400_000)).toISOString();
      // "none": no connection made, no phase recorded; "http": never a TLS handshake.
      if (siteId === "none") return makeResult({ siteId, checkedAt });
      const phases = randomPhases(next, 0.25);
      return makeResult({
        siteId,
        checkedAt,
        ...phases,
        tlsMs: siteId === "http" ? null : phases.tlsMs,
      });
    });
    // Overlapping batches: a redelivered check must not count twice in a phase's average either.
    for (let i = 0; i < results.length; i += 200) {
      await storeBatch(sql, asMessages(results.slice(Math.max(0, i - 50), i + 200)));
    }

    const rows = await sql`
      SELECT site, "window", since, checks::int, dns_ms_avg, connect_ms_avg, tls_ms_avg,
             first_byte_ms_avg, transfer_ms_avg
      FROM site_uptime`;
    assert.equal(rows.length, 3 * 4);
    const average = (times: readonly (number | null)[]) => {
      const present = times.filter((t): t is number => t !== null);
      return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
    };
    for (const row of rows) {
      const inWindow = results.filter((r: CheckResult) =>
        r.siteId === row.site && new Date(r.checkedAt) >= row.since
      );
      assert.equal(row.checks, inWindow.length, `${row.site} ${row.window}: checks`);
      for (const [phase, column] of PHASES) {
        const expected = average(inWindow.map((r) => r[phase]));
        const what = `${row.site} ${row.window}: ${column} is ${row[column]}, expected ${expected}`;
        if (expected === null) assert.equal(row[column], null, what);
        else assert.ok(Math.abs(row[column] - expected) <= 1e-9 * expected, what);
      }
    }
    const tls = rows.filter((r) => r.site !== "https").map((r) => r.tls_ms_avg);
    assert.deepEqual(tls, Array(8).fill(null), "no TLS is no average, not zero");
  });
});

Deno.test("site_uptime counts a site across its regions; site_uptime_by_region gives each region's own", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const now = Date.now();
    const minutesAgo = (m: number) => new Date(now - m * 60_000).toISOString();
    const down = {
      responseTimeMs: null,
      up: false,
      error: { kind: "timeout", message: "No complete response within the timeout" },
    } as const;
    const results = [
      // Region a: all up. Region b: half down. Region c: once, three days ago. Region d: only
      // before the longest window, so it has no row.
      ...[1, 2, 3, 4].map((m) =>
        makeResult({ siteId: "s", region: "a", checkedAt: minutesAgo(m), responseTimeMs: 100 })
      ),
      ...[1, 2].map((m) =>
        makeResult({ siteId: "s", region: "b", checkedAt: minutesAgo(m), responseTimeMs: 300 })
      ),
      ...[3, 4].map((m) =>
        makeResult({ siteId: "s", region: "b", checkedAt: minutesAgo(m), ...down })
      ),
      makeResult({ siteId: "s", region: "c", checkedAt: minutesAgo(3 * 24 * 60) }),
      makeResult({ siteId: "s", region: "d", checkedAt: minutesAgo(32 * 24 * 60) }),
    ];
    // Delivered twice: counted once.
    await storeBatch(sql, asMessages(results));
    assert.equal((await storeBatch(sql, asMessages(results))).inserted, 0);
    assert.deepEqual(await rollupMismatches(sql), []);

    const across = await sql`
      SELECT "window", checks::int, failures::int, uptime, response_time_ms_avg AS avg
      FROM site_uptime WHERE site = 's' ORDER BY since DESC`;
    assert.deepEqual(across.map((r) => ({ ...r })), [
      { window: "1h", checks: 8, failures: 2, uptime: 0.75, avg: 1_000 / 6 },
      { window: "24h", checks: 8, failures: 2, uptime: 0.75, avg: 1_000 / 6 },
      { window: "7d", checks: 9, failures: 2, uptime: 7 / 9, avg: 1_020.25 / 7 },
      { window: "30d", checks: 9, failures: 2, uptime: 7 / 9, avg: 1_020.25 / 7 },
    ]);

    const perRegion = await sql`
      SELECT region, "window", site_name, checks::int, failures::int, uptime,
             response_time_ms_avg AS avg
      FROM site_uptime_by_region WHERE site = 's' ORDER BY region, since DESC`;
    const row = (
      region: string,
      window: string,
      [checks, failures, uptime, avg]: (number | null)[],
    ) => ({ region, window, site_name: "Site A", checks, failures, uptime, avg });
    assert.deepEqual(perRegion.map((r) => ({ ...r })), [
      row("a", "1h", [4, 0, 1, 100]),
      row("a", "24h", [4, 0, 1, 100]),
      row("a", "7d", [4, 0, 1, 100]),
      row("a", "30d", [4, 0, 1, 100]),
      row("b", "1h", [4, 2, 0.5, 300]),
      row("b", "24h", [4, 2, 0.5, 300]),
      row("b", "7d", [4, 2, 0.5, 300]),
      row("b", "30d", [4, 2, 0.5, 300]),
      // Silent in the last day: no checks, no uptime, rather than no row.
      row("c", "1h", [0, 0, null, null]),
      row("c", "24h", [0, 0, null, null]),
      row("c", "7d", [1, 0, 1, 20.25]),
      row("c", "30d", [1, 0, 1, 20.25]),
    ]);
  });
});

Deno.test("prune() drops only whole partitions older than the retention, keeping their neighbours", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const now = new Date(Date.UTC(2026, 10, 25, 12, 0));
    const daysAgo = (d: number) => new Date(now.getTime() - d * DAY_MS);
    // Days 40 and 31 ago are past a 30-day retention; the partition of day 30 ago still holds
    // rows younger than the cutoff and stays, as do the rollups of the last 400 days.
    const checkedAt = [40, 31, 30, 29, 0].map((d) => daysAgo(d).toISOString());
    await ensurePartitionsFor(sql, ["2025-09-30"]);
    await storeBatch(
      sql,
      asMessages([
        ...checkedAt.map((at) => makeResult({ checkedAt: at })),
        makeResult({ checkedAt: "2025-09-30T12:00:00.000Z" }),
      ]),
    );
    const pruned = await prune(sql, now, { checksDays: 30, rollupsDays: 400 });
    assert.deepEqual(pruned, {
      checks: ["checks_20250930", "checks_20261016", "checks_20261025"],
      rollups: ["check_rollups_hourly_202509", "check_rollups_daily_202509"],
    });
    const left = await sql<{ checked_at: Date }[]>`SELECT checked_at FROM checks ORDER BY 1`;
    assert.deepEqual(left.map((r) => r.checked_at.toISOString()), checkedAt.slice(2));
    const [{ rollups }] = await sql<[{ rollups: number }]>`
      SELECT sum(checks)::int AS rollups FROM check_rollups_hourly`;
    assert.equal(rollups, 5, "rollups of pruned days remain until their own retention");
    const [{ days }] = await sql<[{ days: number }]>`
      SELECT sum(checks)::int AS days FROM check_rollups_daily`;
    assert.equal(days, 5);
    assert.deepEqual(await prune(sql, now, { checksDays: 30, rollupsDays: 400 }), {
      checks: [],
      rollups: [],
    });
  });
});

Deno.test("monitor prune drops the expired partitions named by the retention settings", async () => {
  const env = testEnv({ RETAIN_CHECKS_DAYS: "2", RETAIN_ROLLUPS_DAYS: "2", LOG_LEVEL: "info" });
  await withDatabase(env, async (sql) => {
    await storeBatch(
      sql,
      asMessages([makeResult({ checkedAt: "2019-06-30T12:00:00.000Z" }), makeResult()]),
    );
    const run = monitor(["prune"], env);
    assert.equal(await run.code, 0, run.err());
    assert.match(run.err(), /expired partitions dropped.*checks_20190630/);
    assert.equal(await count(sql, "checks"), 1);
    for (const table of ["check_rollups_hourly", "check_rollups_daily"]) {
      assert.ok(!(await partitionsOf(sql, table)).includes(`${table}_201906`), table);
    }
  });
});
