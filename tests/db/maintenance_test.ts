import assert from "node:assert/strict";
import { readSettings } from "../../src/config/settings.ts";
import { connectDatabase, type Sql } from "../../src/db/client.ts";
import { ensurePartitionsFor, startPartitionMaintenance } from "../../src/db/partitions.ts";
import { createLogger } from "../../src/log.ts";
import { testEnv, withDatabase } from "../_helpers/services.ts";

const DAY_MS = 86_400_000;
const RETENTION = { checksDays: 30, rollupsDays: 400 };

async function checksPartitions(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name
    FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'checks'::regclass`;
  return rows.map((r) => r.name);
}

function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger("info", (line) => lines.push(line)) };
}

Deno.test("startPartitionMaintenance() makes the coming days' partitions at once and keeps expired ones unless asked", async () => {
  await withDatabase(testEnv(), async (sql) => {
    await ensurePartitionsFor(sql, ["2019-06-30"]);
    const { lines, log } = capture();
    const maintenance = await startPartitionMaintenance(sql, {
      aheadDays: 12,
      prune: false,
      retention: RETENTION,
      log,
    });
    maintenance.stop();
    const days = await checksPartitions(sql);
    const ahead = `checks_${
      new Date(Date.now() + 12 * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "")
    }`;
    assert.ok(days.includes(ahead), `${ahead} in ${days.join(", ")}`);
    assert.ok(days.includes("checks_20190630"), "an expired partition dropped without prune");
    assert.match(lines.join("\n"), new RegExp(`partitions created partitions=.*${ahead}`));
  });
});

Deno.test("startPartitionMaintenance() with prune drops the partitions older than the retention", async () => {
  await withDatabase(testEnv(), async (sql) => {
    await ensurePartitionsFor(sql, ["2019-06-30"]);
    const { lines, log } = capture();
    const maintenance = await startPartitionMaintenance(sql, {
      aheadDays: 1,
      prune: true,
      retention: RETENTION,
      log,
    });
    maintenance.stop();
    assert.ok(!(await checksPartitions(sql)).includes("checks_20190630"));
    assert.match(lines.join("\n"), /expired partitions dropped partitions=.*checks_20190630/);
  });
});

Deno.test("startPartitionMaintenance() logs a failed round instead of failing", async () => {
  const sql = connectDatabase(readSettings(testEnv()).database);
  await sql.end();
  const { lines, log } = capture();
  const maintenance = await startPartitionMaintenance(sql, {
    aheadDays: 1,
    prune: true,
    retention: RETENTION,
    log,
  });
  maintenance.stop();
  assert.match(lines.join("\n"), /WARN partition maintenance failed; trying again in an hour/);
});
