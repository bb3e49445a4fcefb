/**
 * `monitor serve` as a user runs it: against the real database, on a port the system chooses.
 */
import assert from "node:assert/strict";
import { storeBatch } from "../../src/db/results.ts";
import { monitor, servingUrl, spawnMonitor } from "../_helpers/cli.ts";
import { asMessages, makeResult } from "../_helpers/results.ts";
import { testEnv, waitFor, withDatabase } from "../_helpers/services.ts";

Deno.test("serve refuses to start on a database that is not migrated", async () => {
  const env = testEnv();
  await withDatabase(env, async () => {
    const serve = monitor(["serve"], { ...env, SERVE_PORT: "0" });
    // Bounded: a serve that does not refuse would otherwise keep the test waiting for ever.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const code = await Promise.race([
      serve.code,
      new Promise<"running">((resolve) => timer = setTimeout(() => resolve("running"), 30_000)),
    ]);
    clearTimeout(timer);
    if (code === "running") {
      serve.stop();
      await serve.code;
    }
    assert.equal(code, 1, serve.err());
    assert.match(
      serve.err(),
      /The database schema is not up to date \(missing 0001_schema\.sql\): run "monitor migrate" first/,
    );
  }, { migrated: false });
});

Deno.test("serve answers /healthz and /api/v1/sites on the port it logs, and stops on SIGTERM", async () => {
  const env = testEnv();
  await withDatabase(env, async (sql) => {
    await storeBatch(sql, asMessages([makeResult({ siteId: "shop", siteName: "Shop" })]));
    const serve = spawnMonitor(["serve"], {
      ...env,
      SERVE_PORT: "0",
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
    });
    let stopped = false;
    try {
      const url = await waitFor("the serving line", () => servingUrl(serve.log()));
      assert.equal(url.hostname, "127.0.0.1");
      assert.notEqual(url.port, "0");
      await waitFor(
        "the database reached",
        () => serve.log().includes("database reached") || undefined,
      );
      const health = await fetch(new URL("/healthz", url));
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { database: "ok" });
      const sites = await fetch(new URL("/api/v1/sites", url));
      assert.equal(sites.headers.get("content-type"), "application/json; charset=utf-8");
      const answer = await sites.json();
      assert.deepEqual(answer.sites.map((s: { id: string; name: string }) => [s.id, s.name]), [
        ["shop", "Shop"],
      ]);
      const { code } = await serve.stop("SIGTERM");
      stopped = true;
      assert.equal(code, 0, serve.log());
      assert.match(serve.log(), /"message":"stopped serving"/);
      await assert.rejects(fetch(new URL("/healthz", url)), TypeError);
    } finally {
      if (!stopped) await serve.stop("SIGKILL");
    }
  });
});

Deno.test("serve answers /healthz with 503 naming the database, and /metrics, while it cannot reach it", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const serve = spawnMonitor(["serve"], {
    ...testEnv(),
    DATABASE_URL: `postgres://monitor:secret@127.0.0.1:${port}/monitor`,
    SERVE_PORT: "0",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
  });
  try {
    const url = await waitFor("the serving line", () => servingUrl(serve.log()));
    const report = await waitFor("/healthz naming why", async () => {
      const health = await fetch(new URL("/healthz", url));
      assert.equal(health.status, 503);
      const body = await health.json();
      return /ECONNREFUSED|refused/i.test(body.database ?? "") ? body : undefined;
    });
    assert.match(report.database, /^unreachable: Cannot use PostgreSQL at "/);
    assert.doesNotMatch(JSON.stringify(report), /secret/);
    const sites = await fetch(new URL("/api/v1/sites", url));
    assert.equal(sites.status, 503);
    await sites.body?.cancel();
    // Metrics from the start, like the other commands': the waiting shows in them.
    const metrics = await fetch(new URL("/metrics", url));
    assert.equal(metrics.status, 200);
    assert.match(
      await metrics.text(),
      /monitor_serve_requests_total\{[^}]*route="\/api\/v1\/sites"[^}]*status="503"[^}]*\} 1/,
    );
  } finally {
    await serve.stop("SIGTERM");
  }
});
