/**
 * No message can block `monitor consume`: thousands of generated messages — valid results,
 * results broken in every field, random bytes, huge and deeply nested JSON, wrong versions,
 * duplicates, results from outside the retention and results the database itself refuses — go
 * onto a real topic, with valid results behind them on the same keys. Every message must end up
 * in exactly one place: its result in `checks` (once, however often it was sent) or the message
 * in `rejected_messages`; and the group must commit the whole topic.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import type { CheckResult } from "../../src/check/result.ts";
import { brokenResults, garbage, validResults } from "../_helpers/messages.ts";
import { monitor } from "../_helpers/cli.ts";
import { makeResult } from "../_helpers/results.ts";
import { rollupMismatches } from "../_helpers/rollups.ts";
import {
  committedToEnd,
  testEnv,
  testProducer,
  waitFor,
  withDatabase,
} from "../_helpers/services.ts";

const SITES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
const DAY_MS = 86_400_000;
const REFUSE = "refused by a rule of the database";

interface Planned {
  readonly key: string | null;
  readonly value: Uint8Array | null;
  /** The result it must be stored as; none: it must be kept in rejected_messages. */
  readonly result?: CheckResult;
  /** What the rejection's reason must say. */
  readonly reason?: RegExp;
}

function plan(nowMs: number): Planned[] {
  const encode = (text: string) => new TextEncoder().encode(text);
  let seed = 20261125; // fixed, so a failure can be replayed; a new one for each sample
  const sample = <T>(arbitrary: fc.Arbitrary<T>, n: number) =>
    fc.sample(arbitrary, { numRuns: n, seed: seed++ });
  // Some older than RETAIN_CHECKS_DAYS (30): still stored, and counted in their rollups.
  const valid = validResults(nowMs, { sites: SITES, days: 45 });
  const stored = (r: CheckResult): Planned => ({
    key: r.siteId,
    value: encode(JSON.stringify(r)),
    result: r,
  });
  const rejected = (key: string | null, value: Uint8Array | null, reason: RegExp): Planned => ({
    key,
    value,
    reason,
  });
  const results = sample(valid, 1_500).map(stored);
  const huge = makeResult({
    siteId: "alpha",
    up: false,
    error: { kind: "invalid_response", message: "x".repeat(300_000) },
  });
  const tooOld = sample(valid, 50).map((r) => ({
    ...r,
    checkedAt: new Date(nowMs - 500 * DAY_MS).toISOString(), // RETAIN_ROLLUPS_DAYS: 400
  }));
  const tooNew = sample(valid, 50).map((r) => ({
    ...r,
    checkedAt: new Date(nowMs + 3 * DAY_MS).toISOString(),
  }));
  const refusedByDatabase = sample(valid, 100).map((r) =>
    ({
      ...r,
      up: false,
      error: { kind: "connection", message: REFUSE },
    }) as CheckResult
  );
  const planned: Planned[] = [
    ...results,
    ...results.slice(0, 300), // duplicates
    stored(huge),
    ...sample(brokenResults(valid), 1_500).map((json, i) =>
      rejected(SITES[i % SITES.length]!, encode(json), /^Message (is not|version)/)
    ),
    ...sample(garbage, 300).map((bytes, i) =>
      rejected(i % 3 === 0 ? null : SITES[i % SITES.length]!, bytes, /^Message/)
    ),
    rejected("beta", encode("[".repeat(200_000) + "]".repeat(200_000)), /^Message/),
    rejected(
      "gamma",
      encode(JSON.stringify({ version: 1, blob: "y".repeat(300_000) })),
      /not a valid/,
    ),
    rejected("delta", encode(JSON.stringify({ ...huge, version: 2 })), /version 2/),
    ...Array.from({ length: 20 }, (_, i) => rejected(SITES[i % 6]!, null, /no value/)),
    ...[...tooOld, ...tooNew].map((r) =>
      rejected(r.siteId, encode(JSON.stringify(r)), /^checkedAt .* (older|after)/)
    ),
    ...refusedByDatabase.map((r) =>
      rejected(
        r.siteId,
        encode(JSON.stringify(r)),
        /^PostgreSQL refused the row \(SQLSTATE 23514\)/,
      )
    ),
  ];
  const [mixed] = sample(fc.shuffledSubarray(planned, { minLength: planned.length }), 1);
  // Valid results behind everything else, on every key.
  return [...mixed!, ...SITES.map((siteId) => stored(makeResult({ siteId })))];
}

Deno.test("monitor consume stores every valid message and keeps every other one, whatever the topic holds", async () => {
  const env = testEnv({ KAFKA_TOPIC_PARTITIONS: "3" });
  const messages = plan(Date.now());
  await withDatabase(env, async (sql) => {
    // A rule the message format does not know, as when the tables and the format drift apart.
    await sql.unsafe(`
      ALTER TABLE checks ADD CONSTRAINT no_refusals
      CHECK (error_message IS DISTINCT FROM '${REFUSE}')`);
    {
      await using topic = await testProducer(env, 3);
      for (let i = 0; i < messages.length; i += 200) {
        await topic.producer.send({
          topic: topic.topic,
          messages: messages.slice(i, i + 200).map(({ key, value }) => ({
            key: key === null ? null : Buffer.from(key),
            value: value === null ? null : Buffer.from(value),
          })),
        });
      }
    }

    const expectedChecks = new Map(
      messages.flatMap((m) => m.result ? [[m.result.checkId, m.result] as const] : []),
    );
    const expectedRejected = messages.filter((m) => m.result === undefined);
    const consume = monitor(["consume"], env);
    try {
      await waitFor("the whole topic committed", async () => {
        const [{ checks, rejected }] = await sql<[{ checks: number; rejected: number }]>`
          SELECT (SELECT count(*)::int FROM checks) AS checks,
                 (SELECT count(*)::int FROM rejected_messages) AS rejected`;
        const done = checks === expectedChecks.size && rejected === expectedRejected.length;
        return done && await committedToEnd(env) || undefined;
      }, 120_000);
    } finally {
      consume.stop();
      assert.equal(await consume.code, 0, consume.err());
    }

    const stored = await sql<{ check_id: string; site: string; error_message: string | null }[]>`
      SELECT check_id, site, error_message FROM check_results`;
    assert.deepEqual(
      new Map(stored.map((r) => [r.check_id, { site: r.site, error: r.error_message }])),
      new Map(
        [...expectedChecks].map((
          [id, r],
        ) => [id, { site: r.siteId, error: r.error?.message ?? null }]),
      ),
    );
    const kept = await sql<{ message: Uint8Array | null; reason: string }[]>`
      SELECT message, reason FROM rejected_messages`;
    const byBytes = (m: { value?: Uint8Array | null; message?: Uint8Array | null }) =>
      Buffer.from(m.value ?? m.message ?? []).toString("base64");
    const unmatched = new Map<string, RegExp[]>();
    for (const m of expectedRejected) {
      unmatched.set(byBytes(m), [...unmatched.get(byBytes(m)) ?? [], m.reason!]);
    }
    for (const row of kept) {
      const reasons = unmatched.get(byBytes(row)) ?? [];
      const at = reasons.findIndex((reason) => reason.test(row.reason));
      assert.ok(at >= 0, `unexpected rejection: ${row.reason.slice(0, 200)}`);
      reasons.splice(at, 1);
    }
    assert.deepEqual([...unmatched.values()].flat(), []);
    assert.deepEqual(await rollupMismatches(sql), []);
  });
});
