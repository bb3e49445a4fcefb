import assert from "node:assert/strict";
import { storeBatch } from "../../src/db/results.ts";
import { makeResult } from "../_helpers/results.ts";
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
    assert.deepEqual(await storeBatch(sql, [up, down]), {
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
    await storeBatch(sql, results.slice(0, 30));
    const outcome = await storeBatch(sql, results);
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
    assert.equal((await storeBatch(sql, [], { rejected: [message] })).rejected, 1);
    assert.equal((await storeBatch(sql, [], { rejected: [message] })).rejected, 0);
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
    assert.equal((await storeBatch(sql, results)).inserted, 5_000);
  });
});
