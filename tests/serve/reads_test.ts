import assert from "node:assert/strict";
import type { Sql } from "../../src/db/client.ts";
import { storeBatch } from "../../src/db/results.ts";
import { SILENT } from "../../src/log.ts";
import { createMetrics } from "../../src/metrics.ts";
import { serveHandler } from "../../src/serve/app.ts";
import { databaseReads } from "../../src/db/reads.ts";
import { asMessages, HTTPS_CONNECTION_DETAILS, makeResult } from "../_helpers/results.ts";
import { testEnv, withDatabase } from "../_helpers/services.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Checks of two sites from two regions over the last 3 days, some down; a few seconds apart. */
async function storeHistory(sql: Sql, now: Date) {
  const results = [];
  let n = 0;
  for (let hoursAgo = 0; hoursAgo < 72; hoursAgo += 1) {
    for (const region of ["eu", "us"]) {
      for (const siteId of ["shop", "blog"]) {
        n++;
        const up = n % 7 !== 0;
        results.push(makeResult({
          siteId,
          siteName: siteId === "shop" ? `Shop <b>"&"</b>` : "Blog",
          url: `https://${siteId}.example/private`,
          region,
          checkedAt: new Date(now.getTime() - hoursAgo * HOUR_MS - 1000 - (n % 5) * 1000)
            .toISOString(),
          responseTimeMs: 10 + (n % 13),
          ...HTTPS_CONNECTION_DETAILS,
          up,
          error: up ? null : { kind: "timeout", message: "no answer from shop.example/private" },
          statusCode: up ? 200 : null,
        }));
      }
    }
  }
  // Failures at the first minute of the long windows (UTC days) and outside them.
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  for (
    const at of [today - 30 * DAY_MS, today - 31 * DAY_MS, today - 90 * DAY_MS, today - 95 * DAY_MS]
  ) {
    results.push(makeResult({
      siteId: "shop",
      region: "eu",
      checkedAt: new Date(at + 60_000).toISOString(),
      up: false,
      error: { kind: "timeout", message: "no answer" },
      statusCode: null,
    }));
  }
  const outcome = await storeBatch(sql, asMessages(results));
  assert.equal(outcome.inserted, results.length);
}

function handlerFor(sql: Sql, options: { visible?: string[] | null; token?: string } = {}) {
  return serveHandler({
    reads: databaseReads(sql, options.visible ?? null),
    now: () => new Date(),
    showUrls: false,
    apiToken: options.token ?? null,
    metrics: createMetrics(),
    health: () => Promise.resolve({ database: "ok" }),
    log: SILENT,
  });
}

const get = (path: string) => new Request(`http://127.0.0.1${path}`);

Deno.test("serve: /api/v1/sites reports the uptime that SQL computes from the raw checks over the same windows", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const now = new Date();
    await storeHistory(sql, now);
    const handle = handlerFor(sql);
    const answer = await (await handle(get("/api/v1/sites"))).json();
    assert.deepEqual(answer.sites.map((s: { id: string }) => s.id), ["blog", "shop"]);
    for (const site of answer.sites) {
      // Whole hours (24h) or UTC days (7d, 30d, 90d) before the current one, and the current one.
      for (
        const [window, n, unit] of [
          ["24h", 24, "hour"],
          ["7d", 7, "day"],
          ["30d", 30, "day"],
          ["90d", 90, "day"],
        ] as const
      ) {
        const [expected] = await sql<[{ uptime: number }]>`
          SELECT (count(*) FILTER (WHERE up))::float8 / count(*) AS uptime FROM checks
          WHERE site_id = ${site.id}
            AND checked_at >= date_trunc(${unit}, now(), 'UTC') - ${n} * ${`1 ${unit}`}::interval`;
        assert.equal(site.uptime[window], expected.uptime, `${site.id} ${window}`);
      }
      if (site.id === "shop") assert.notEqual(site.uptime["30d"], site.uptime["90d"]);
      const [percentiles] = await sql<[{ p50: number; p95: number }]>`
        SELECT monitor_histogram_quantile(monitor_histogram(response_time_ms), 0.5) AS p50,
          monitor_histogram_quantile(monitor_histogram(response_time_ms), 0.95) AS p95
        FROM checks
        WHERE site_id = ${site.id} AND checked_at >= date_trunc('hour', now(), 'UTC') - interval '24 hours'`;
      assert.deepEqual(site.responseTimeMs, percentiles, `${site.id} percentiles`);
      assert.deepEqual(site.regions.map((r: { region: string }) => r.region), ["eu", "us"]);
      assert.equal(site.url, undefined);
    }
    // The per-day uptime agrees with the raw checks too.
    const days = await (await handle(get("/api/v1/sites/shop/uptime?bucket=day&region=eu")))
      .json();
    const raw = await sql<{ day: Date; uptime: number }[]>`
      SELECT date_trunc('day', checked_at, 'UTC') AS day,
             (count(*) FILTER (WHERE up))::float8 / count(*) AS uptime
      FROM checks
      WHERE site_id = 'shop' AND region = 'eu' AND checked_at >= now() - interval '90 days'
      GROUP BY 1 ORDER BY 1`;
    assert.deepEqual(
      days.buckets.map((b: { start: string; uptime: number }) => [b.start, b.uptime]),
      raw.map((r) => [r.day.toISOString(), r.uptime]),
    );
  });
});

Deno.test("serve: a site's checks come a page at a time, every check once, newest first", async () => {
  await withDatabase(testEnv(), async (sql) => {
    await storeHistory(sql, new Date());
    // Checks at the same instant: a page may end between them.
    const instant = new Date(Date.now() - 5 * HOUR_MS).toISOString();
    const ties = Array.from(
      { length: 9 },
      () => makeResult({ siteId: "shop", region: "us", checkedAt: instant }),
    );
    assert.equal((await storeBatch(sql, asMessages(ties))).inserted, 9);
    const handle = handlerFor(sql);
    const seen: string[] = [];
    let path = `/api/v1/sites/shop/checks?limit=7&region=us&from=${
      new Date(Date.now() - 30 * HOUR_MS).toISOString()
    }`;
    for (let pages = 0; pages < 100; pages++) {
      const answer = await (await handle(get(path))).json();
      seen.push(...answer.checks.map((c: { id: string; checkedAt: string }) => c.checkedAt + c.id));
      assert.ok(answer.checks.every((c: { region: string }) => c.region === "us"));
      if (answer.next === null) break;
      path = `/api/v1/sites/shop/checks?limit=7&region=us&from=${
        new Date(Date.now() - 30 * HOUR_MS).toISOString()
      }&cursor=${answer.next}`;
    }
    const [{ n }] = await sql<[{ n: number }]>`
      SELECT count(*)::int AS n FROM checks WHERE site_id = 'shop' AND region = 'us'
        AND checked_at >= now() - interval '30 hours'`;
    assert.equal(seen.length, n);
    assert.equal(new Set(seen).size, n);
    assert.deepEqual(seen, seen.toSorted().reverse());
  });
});

Deno.test("serve: SERVE_SITES hides the other sites from the API, pages, badges and incidents", async () => {
  await withDatabase(testEnv(), async (sql) => {
    await storeHistory(sql, new Date());
    await sql`
      INSERT INTO incidents (incident_id, site_id, kind, severity, regions, opened_at,
        opened_by_check_id, cause_error_kind, cause_message)
      VALUES ('shop/down/1', 'shop', 'down', 'critical', '{eu}', now() - interval '2 hours',
        gen_random_uuid(), 'timeout', 'no answer'),
        ('blog/down/1', 'blog', 'down', 'critical', '{us}', now() - interval '1 hour',
        gen_random_uuid(), 'timeout', 'no answer')`;
    const handle = handlerFor(sql, { visible: ["shop"] });
    const sites = await (await handle(get("/api/v1/sites"))).json();
    assert.deepEqual(sites.sites.map((s: { id: string }) => s.id), ["shop"]);
    for (const path of ["/api/v1/sites/blog", "/sites/blog", "/badge/blog/status.svg"]) {
      const response = await handle(get(path));
      assert.equal(response.status, 404, path);
      await response.body?.cancel();
    }
    const open = await (await handle(get("/api/v1/incidents"))).json();
    assert.deepEqual(open.incidents.map((i: { id: string }) => i.id), ["shop/down/1"]);
    const page = await (await handle(get("/"))).text();
    assert.match(page, /Shop &lt;b&gt;&quot;&amp;&quot;&lt;\/b&gt;/);
    assert.match(page, /open for 2 h 0 min/);
    assert.doesNotMatch(page, /Blog|private/);
    const site = await handle(get("/sites/shop?window=7d&region=eu"));
    assert.equal(site.status, 200);
    assert.match(await site.text(), /Average time of each phase, last 7d, region eu/);
  });
});

Deno.test("serve: times and ids PostgreSQL cannot hold are 400 or 404, never a database error", async () => {
  await withDatabase(testEnv(), async (sql) => {
    await storeBatch(sql, asMessages([makeResult({ siteId: "shop" })]));
    const metrics = createMetrics();
    const errors: string[] = [];
    const handle = serveHandler({
      reads: databaseReads(sql, null),
      now: () => new Date(),
      showUrls: false,
      apiToken: null,
      metrics,
      health: () => Promise.resolve({ database: "ok" }),
      log: { ...SILENT, error: (message: string) => errors.push(message) },
    });
    const cursor = btoa(JSON.stringify(["0000-01-01T00:00:00Z", crypto.randomUUID()]))
      .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    for (
      const [path, status, message] of [
        [
          "/api/v1/sites/shop/checks?from=0000-01-01T00:00:00Z&to=0000-01-02T00:00:00Z",
          400,
          /"from": must be a time from year 1 to 9999/,
        ],
        [
          "/api/v1/incidents?state=all&from=9999-12-31T00:00:00-23:59&to=9999-12-31T23:59:59-23:59",
          400,
          /"to": must be a time from year 1 to 9999/,
        ],
        [
          "/api/v1/sites/shop/uptime?bucket=day&from=0000-01-01T00:00:00Z&to=0000-12-01T00:00:00Z",
          400,
          /"from": must be a time from year 1 to 9999/,
        ],
        [`/api/v1/sites/shop/checks?cursor=${cursor}`, 400, /"cursor"/],
        ["/sites/%00", 404, /No site "\\u0000"/],
        ["/api/v1/sites/%00/checks", 404, /No site/],
      ] as const
    ) {
      const response = await handle(get(path));
      assert.equal(response.status, status, path);
      assert.match((await response.json()).error, message, path);
    }
    assert.deepEqual(errors, []);
    assert.doesNotMatch(metrics.registry.metrics(), /serve_database_errors_total [1-9]/);
  });
});
