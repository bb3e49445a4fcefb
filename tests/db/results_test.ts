import assert from "node:assert/strict";
import fc from "fast-check";
import { checkResultSchema } from "../../src/check/result.ts";
import { storeBatch } from "../../src/db/results.ts";
import { decodeBatch, encodeCheckResult } from "../../src/kafka/codec.ts";
import { asMessages, HTTPS_CONNECTION_DETAILS, makeResult } from "../_helpers/results.ts";
import { rollupMismatches } from "../_helpers/rollups.ts";
import { testEnv, waitFor, withDatabase } from "../_helpers/services.ts";

Deno.test("storeBatch() stores every field of a result, readable through check_results", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const up = makeResult({
      checkedAt: "2026-03-04T05:06:07.089Z",
      pattern: "ok",
      patternMatched: true,
      certExpiresAt: "2026-03-14T17:06:07.089Z",
      region: "eu-west.1",
      checker: "checker-7.example:4242",
    });
    const down = makeResult({
      siteId: "site-b",
      region: "us_east",
      checker: "checker-8:17",
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
             error_message, region, checker
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
        region: "eu-west.1",
        checker: "checker-7.example:4242",
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
        region: "us_east",
        checker: "checker-8:17",
      },
    ]);
    const rollups = await sql`SELECT site_id, region, checks FROM check_rollups_hourly ORDER BY 1`;
    assert.deepEqual(rollups.map((r) => ({ ...r })), [
      { site_id: "site-a", region: "eu-west.1", checks: 1 },
      { site_id: "site-b", region: "us_east", checks: 1 },
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

Deno.test("storeBatch() adds to a rollup row another writer inserted while its statement ran", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const first = makeResult({ siteId: "raced", responseTimeMs: 10 });
    const second = makeResult({ siteId: "raced", checkedAt: first.checkedAt, responseTimeMs: 20 });
    // The other writer's transaction holds the hour's new rollup row, not committed yet.
    const other = await sql.reserve();
    try {
      await other`BEGIN`;
      await storeBatch(other, asMessages([first]));
      const [{ pid }] = await other<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`;
      const storing = storeBatch(sql, asMessages([second], 1));
      await waitFor("the statement to wait for the other writer", async () => {
        const [{ n }] = await sql<[{ n: number }]>`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${pid} = ANY(pg_blocking_pids(pid))`;
        return n > 0 || undefined;
      });
      await other`COMMIT`;
      assert.deepEqual(await storing, { inserted: 1, duplicates: 0, rejected: 0 });
    } finally {
      other.release();
    }
    const [rollup] = await sql<[{ checks: number }]>`
      SELECT checks FROM check_rollups_hourly WHERE site_id = 'raced'`;
    assert.equal(rollup.checks, 2);
    assert.deepEqual(await rollupMismatches(sql), []);
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

Deno.test("storeBatch() stores a result's phases, address and versions, shown by check_results", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const https = makeResult({
      ...HTTPS_CONNECTION_DETAILS,
      checkedAt: "2026-03-04T05:06:07.089Z",
    });
    // http to an IPv6 literal, timed out waiting for the body: no DNS, no TLS, no transfer.
    const ipLiteral = makeResult({
      ...HTTPS_CONNECTION_DETAILS,
      siteId: "site-b",
      url: "http://[2001:db8::1]/",
      checkedAt: "2026-03-04T05:06:08.000Z",
      responseTimeMs: null,
      dnsMs: null,
      tlsMs: null,
      transferMs: null,
      remoteAddress: "2001:DB8:0:0::1",
      httpVersion: "1.0",
      ...{ tlsVersion: null, certSubject: null, certIssuer: null, certAltNames: null },
      up: false,
      error: { kind: "timeout", message: "No complete response within the timeout" },
    });
    assert.equal((await storeBatch(sql, asMessages([https, ipLiteral]))).inserted, 2);

    const rows = await sql`
      SELECT dns_ms, connect_ms, tls_ms, first_byte_ms, transfer_ms, remote_address, http_version,
             tls_version
      FROM check_results ORDER BY checked_at`;
    assert.deepEqual(rows.map((r) => ({ ...r })), [
      {
        dns_ms: 1.5,
        connect_ms: 0.75,
        tls_ms: 4.25,
        first_byte_ms: 11,
        transfer_ms: 2.5,
        remote_address: "203.0.113.7",
        http_version: "1.1",
        tls_version: "TLSv1.3",
      },
      {
        dns_ms: null,
        connect_ms: 0.75,
        tls_ms: null,
        first_byte_ms: 11,
        transfer_ms: null,
        remote_address: "2001:db8::1", // as PostgreSQL writes an address
        http_version: "1.0",
        tls_version: null,
      },
    ]);
  });
});

Deno.test("storeBatch() stores a decoded check that made no connection: phases, address and versions null, counted in no phase, its message version kept", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const result = makeResult({ siteId: "none", region: "eu", checker: "checker-1:7" });
    // As the consumer reads it off the topic.
    const messages = decodeBatch({
      topic: "checks",
      partition: 0,
      messages: [{
        offset: "3",
        key: new TextEncoder().encode("none"),
        value: new TextEncoder().encode(encodeCheckResult(result).value),
      }],
      lag: 0,
    });
    assert.deepEqual(await storeBatch(sql, messages), { inserted: 1, duplicates: 0, rejected: 0 });

    const [row] = await sql`
      SELECT check_id, response_time_ms, dns_ms, connect_ms, tls_ms, first_byte_ms, transfer_ms,
             remote_address, http_version, tls_version, region, checker
      FROM check_results`;
    assert.deepEqual({ ...row }, {
      check_id: result.checkId,
      response_time_ms: 20.25,
      dns_ms: null,
      connect_ms: null,
      tls_ms: null,
      first_byte_ms: null,
      transfer_ms: null,
      remote_address: null,
      http_version: null,
      tls_version: null,
      region: "eu",
      checker: "checker-1:7",
    });
    const [rollup] = await sql`
      SELECT region, checks, dns_ms_count, dns_ms_sum, transfer_ms_count FROM check_rollups_hourly`;
    assert.deepEqual({ ...rollup }, {
      region: "eu",
      checks: 1,
      dns_ms_count: 0,
      dns_ms_sum: 0,
      transfer_ms_count: 0,
    });
    // What the message was stays known.
    const [stored] = await sql`SELECT message_version FROM checks`;
    assert.equal(stored?.message_version, 1);
  });
});

/** Addresses the message schema accepts in forms a generator seldom draws. */
const UNUSUAL_ADDRESSES = [
  "0.0.0.0",
  "255.255.255.255",
  "::",
  "::1",
  "::ffff:192.0.2.1", // IPv4-mapped, as a dual-stack socket reports an IPv4 peer
  "::192.0.2.1",
  "64:ff9b::192.0.2.1",
  "1:2:3:4:5:6:192.0.2.1",
  "1:2:3:4:5:6:7::",
  "::2:3:4:5:6:7:8",
  "0001:0DB8:0000:0000:0000:0000:0000:0001",
  "FE80::1",
];

Deno.test("every remote address the message schema accepts is one PostgreSQL's inet stores", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const addressSchema = checkResultSchema.options[0].shape.remoteAddress;
    const drawn = fc.sample(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), {
      numRuns: 3_000,
      seed: 16,
    });
    const accepted = [...UNUSUAL_ADDRESSES, ...drawn].filter((address) =>
      addressSchema.safeParse(address).success
    );
    assert.ok(accepted.length > 2_000, `only ${accepted.length} addresses accepted`);
    assert.deepEqual(UNUSUAL_ADDRESSES.filter((a) => !accepted.includes(a)), []);

    const results = accepted.map((remoteAddress) => makeResult({ remoteAddress }));
    assert.deepEqual(await storeBatch(sql, asMessages(results)), {
      inserted: results.length,
      duplicates: 0,
      rejected: 0,
    });
    // Stored as the same address (PostgreSQL may write it otherwise: "::ffff:c000:201").
    const [{ same }] = await sql<[{ same: number }]>`
      SELECT count(*)::int AS same
      FROM checks AS c
      JOIN unnest(${results.map((r) => r.checkId)}::uuid[], ${accepted}::text[]) AS t(id, address)
        ON t.id = c.check_id AND t.address::inet = c.remote_address`;
    assert.equal(same, results.length);
  });
});
