import assert from "node:assert/strict";
import { storeBatch } from "../../src/db/results.ts";
import { asMessages, makeResult } from "../_helpers/results.ts";
import { rollupMismatches } from "../_helpers/rollups.ts";
import { testEnv, withDatabase } from "../_helpers/services.ts";

Deno.test("storeBatch() stores every field of a result, readable through check_results", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const up = makeResult({
      checkedAt: "2026-03-04T05:06:07.089Z",
      pattern: "ok",
      patternMatched: true,
      certExpiresAt: "2026-03-14T17:06:07.089Z",
    });
    const down = makeResult({
      siteId: "site-b",
      timeToHeadersMs: null,
      responseTimeMs: null,
      statusCode: null,
      up: false,
      error: { kind: "timeout", message: "No complete response within the timeout" },
    });
    assert.deepEqual(await storeBatch(sql, asMessages([up, down])), {
      inserted: 2,
      duplicates: 0,
      rejected: 0,
    });

    const rows = await sql`
      SELECT check_id, site, site_name, url, checked_at, response_time_ms, time_to_headers_ms,
             status_code, pattern, pattern_matched, cert_expires_at, cert_days_left, up, error,
             error_message
      FROM check_results ORDER BY site`;
    assert.deepEqual(rows.map((r) => ({ ...r })), [
      {
        check_id: up.checkId,
        site: "site-a",
        site_name: "Site A",
        url: "https://a.example/",
        checked_at: new Date("2026-03-04T05:06:07.089Z"),
        response_time_ms: 20.25,
        time_to_headers_ms: 12.5,
        status_code: 200,
        pattern: "ok",
        pattern_matched: true,
        cert_expires_at: new Date("2026-03-14T17:06:07.089Z"),
        cert_days_left: 10.5,
        up: true,
        error: null,
        error_message: null,
      },
      {
        check_id: down.checkId,
        site: "site-b",
        site_name: "Site A",
        url: "https://a.example/",
        checked_at: new Date(down.checkedAt),
        response_time_ms: null,
        time_to_headers_ms: null,
        status_code: null,
        pattern: null,
        pattern_matched: null,
        cert_expires_at: null,
        cert_days_left: null,
        up: false,
        error: "timeout",
        error_message: "No complete response within the timeout",
      },
    ]);
  });
});

Deno.test("storeBatch() given the same results again stores nothing twice", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const results = Array.from({ length: 50 }, () => makeResult());
    await storeBatch(sql, asMessages(results.slice(0, 30)));
    const outcome = await storeBatch(sql, asMessages(results));
    assert.deepEqual(outcome, { inserted: 20, duplicates: 30, rejected: 0 });
    const [{ count }] = await sql<[{ count: number }]>`SELECT count(*)::int AS count FROM checks`;
    assert.equal(count, 50);
  });
});

Deno.test("storeBatch() keeps rejected messages once each, with their bytes and reason", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const message = {
      topic: "t",
      partition: 2,
      offset: "41",
      key: new TextEncoder().encode("k"),
      value: new Uint8Array([0xff, 0x00, 0x7b]),
      reason: "Message is not JSON",
    };
    assert.equal((await storeBatch(sql, [message])).rejected, 1);
    assert.equal((await storeBatch(sql, [message])).rejected, 0);
    const [row] = await sql`SELECT partition, kafka_offset, message, reason FROM rejected_messages`;
    assert.equal(row?.partition, 2);
    assert.equal(row?.kafka_offset, "41");
    assert.deepEqual(new Uint8Array(row?.message), message.value);
    assert.equal(row?.reason, "Message is not JSON");
  });
});

Deno.test("storeBatch() writes a batch larger than one statement's parameter limit", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const results = Array.from({ length: 5_000 }, () => makeResult());
    assert.equal((await storeBatch(sql, asMessages(results))).inserted, 5_000);
  });
});

Deno.test("storeBatch() stores every row PostgreSQL accepts and keeps each refused one with its SQLSTATE", async () => {
  await withDatabase(testEnv(), async (sql) => {
    // A rule of the table that the message schema does not know, as after a schema drift.
    await sql`ALTER TABLE checks ADD CONSTRAINT no_teapots CHECK (status_code IS DISTINCT FROM 418)`;
    const results = Array.from(
      { length: 50 },
      (_, i) =>
        makeResult({ siteId: `site-${i % 7}`, statusCode: [3, 4, 31, 49].includes(i) ? 418 : 200 }),
    );
    const messages = asMessages(results, 100);

    assert.deepEqual(await storeBatch(sql, messages), { inserted: 46, duplicates: 0, rejected: 4 });
    const rejected = await sql`
      SELECT kafka_offset, message, reason FROM rejected_messages ORDER BY kafka_offset::int`;
    assert.deepEqual(rejected.map((r) => r.kafka_offset), ["103", "104", "131", "149"]);
    assert.deepEqual(new Uint8Array(rejected[0]!.message), messages[3]!.value);
    assert.match(
      rejected[0]!.reason,
      /^PostgreSQL refused the row \(SQLSTATE 23514\): .*"no_teapots"/,
    );
    const [{ stored }] = await sql<
      [{ stored: number }]
    >`SELECT count(*)::int AS stored FROM checks`;
    assert.equal(stored, 46);
    assert.deepEqual(await rollupMismatches(sql), []);

    // Delivered again: nothing new, nothing counted twice.
    assert.deepEqual(await storeBatch(sql, messages), { inserted: 0, duplicates: 46, rejected: 0 });
    assert.deepEqual(await rollupMismatches(sql), []);
  });
});

Deno.test("storeBatch() keeps a rejected message whose reason quotes a NUL", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const message = {
      topic: "t",
      partition: 0,
      offset: "7",
      key: null,
      value: new TextEncoder().encode('{"\\u0000":1}'),
      reason: 'Unrecognized key: "\u0000"',
    };
    assert.equal((await storeBatch(sql, [message])).rejected, 1);
    const [row] = await sql`SELECT reason FROM rejected_messages`;
    assert.equal(row?.reason, 'Unrecognized key: "\uFFFD"');
  });
});

Deno.test("storeBatch() keeps a reason of at most 1 000 characters: the message's bytes are beside it", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const key = "k".repeat(100_000);
    const message = {
      topic: "t",
      partition: 0,
      offset: "8",
      key: null,
      value: new TextEncoder().encode(`{"${key}":1}`),
      reason: `Message is not a valid check result: (root): Unrecognized key: "${key}"`,
    };
    assert.equal((await storeBatch(sql, [message])).rejected, 1);
    const [row] = await sql`SELECT reason, length(message) AS bytes FROM rejected_messages`;
    assert.equal(row?.reason.length, 1_000);
    assert.match(row?.reason, /^Message is not a valid check result: .*…$/);
    assert.equal(row?.bytes, message.value.length);
  });
});

Deno.test("storeBatch() throws an error that is not about the data, keeping nothing aside", async () => {
  await withDatabase(testEnv(), async (sql) => {
    await sql`ALTER TABLE site_versions RENAME TO site_versions_away`;
    await assert.rejects(
      storeBatch(sql, asMessages([makeResult()])),
      (error: { code?: string }) => error.code === "42P01",
    );
    const [{ kept }] = await sql<
      [{ kept: number }]
    >`SELECT count(*)::int AS kept FROM rejected_messages`;
    assert.equal(kept, 0);
  });
});

Deno.test("check_results shows the name, URL and pattern each check ran with", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 24, 10, minute)).toISOString();
    const old = { siteId: "s", siteName: "Old", url: "https://old.example/", pattern: "a" };
    const renamed = { siteId: "s", siteName: "New", url: "https://new.example/", pattern: null };
    await storeBatch(sql, asMessages([makeResult({ ...old, checkedAt: at(0) })]));
    await storeBatch(
      sql,
      asMessages([
        makeResult({ ...renamed, checkedAt: at(2) }),
        makeResult({ ...old, checkedAt: at(1) }),
      ]),
    );
    const rows = await sql`
      SELECT site_name, url, pattern FROM check_results ORDER BY checked_at`;
    assert.deepEqual(rows.map((r) => ({ ...r })), [
      { site_name: "Old", url: "https://old.example/", pattern: "a" },
      { site_name: "Old", url: "https://old.example/", pattern: "a" },
      { site_name: "New", url: "https://new.example/", pattern: null },
    ]);
    const [{ versions }] = await sql<
      [{ versions: number }]
    >`SELECT count(*)::int AS versions FROM site_versions`;
    assert.equal(versions, 2, "a version is stored once, however many checks use it");
  });
});
