import assert from "node:assert/strict";
import { readSettings } from "../../src/config/settings.ts";
import { connectDatabase, type Sql } from "../../src/db/client.ts";
import { loadMigrations, migrate, MIGRATION_FILES, requireMigrated } from "../../src/db/migrate.ts";
import { SILENT } from "../../src/log.ts";
import { testEnv, withDatabase } from "../_helpers/services.ts";

Deno.test("migrate() applies every migration once and nothing on a second run", async () => {
  const env = testEnv();
  await withDatabase(env, async (sql) => {
    const migrations = await loadMigrations();
    const schema = readSettings(env).database.schema;
    assert.deepEqual(
      await migrate(sql, migrations, { log: SILENT, schema }),
      migrations.map((m) => m.name),
    );
    assert.deepEqual(await migrate(sql, migrations, { log: SILENT, schema }), []);
    const rows = await sql`SELECT version FROM monitor_migrations ORDER BY version`;
    assert.deepEqual(rows.map((r) => r.version), migrations.map((m) => m.version));
  }, { migrated: false });
});

Deno.test("migrate() run by two processes at once applies each migration exactly once", async () => {
  const env = testEnv();
  await withDatabase(env, async (sql) => {
    const migrations = await loadMigrations();
    const schema = readSettings(env).database.schema;
    // Two pools are two sessions, as two processes would be.
    const other = connectDatabase(readSettings(env).database);
    try {
      const [a, b] = await Promise.all([
        migrate(sql, migrations, { log: SILENT, schema }),
        migrate(other, migrations, { log: SILENT, schema }),
      ]);
      assert.deepEqual([...a, ...b].toSorted(), migrations.map((m) => m.name).toSorted());
    } finally {
      await other.end({ timeout: 5 });
    }
  }, { migrated: false });
});

Deno.test("migrate() refuses a migration changed after it was applied", async () => {
  const env = testEnv();
  await withDatabase(env, async (sql) => {
    const [first, ...rest] = await loadMigrations();
    const edited = { ...first!, sql: `${first!.sql}\n-- edited`, checksum: "0".repeat(64) };
    await assert.rejects(
      migrate(sql, [edited, ...rest], { log: SILENT }),
      /Migration "0001_schema.sql" was changed after it was applied/,
    );
  });
});

Deno.test("migrate() and requireMigrated() refuse a database of an unreleased development version", async () => {
  const env = testEnv();
  await withDatabase(env, async (sql) => {
    const schema = readSettings(env).database.schema;
    const old = await loadMigrations({ "0001_init.sql": "CREATE TABLE checks (check_id uuid)" });
    await migrate(sql, old, { log: SILENT, schema });
    await assert.rejects(
      requireMigrated(sql),
      /The database schema is not up to date \(missing 0001_schema\.sql\)/,
    );
    await assert.rejects(
      migrate(sql, await loadMigrations(), { log: SILENT, schema }),
      /The database was migrated by an unreleased development version \(0001_init\.sql\): recreate it/,
    );
  }, { migrated: false });
});

/** Name → type of each column of a view, in order. */
async function columnsOf(sql: Sql, view: string): Promise<[string, string][]> {
  const columns = await sql<{ column_name: string; data_type: string }[]>`
    SELECT column_name, data_type FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${view}
    ORDER BY ordinal_position`;
  return columns.map((c) => [c.column_name, c.data_type]);
}

const TIME = "timestamp with time zone";
const MS = "double precision";

Deno.test("the check_results, site_uptime and site_uptime_by_region views have the documented columns, new ones last", async () => {
  await withDatabase(testEnv(), async (sql) => {
    assert.deepEqual(await columnsOf(sql, "check_results"), [
      ["check_id", "uuid"],
      ["site", "text"],
      ["site_name", "text"],
      ["url", "text"],
      ["checked_at", TIME],
      ["response_time_ms", MS],
      ["time_to_headers_ms", MS],
      ["status_code", "integer"],
      ["pattern", "text"],
      ["pattern_matched", "boolean"],
      ["cert_expires_at", TIME],
      ["cert_days_left", "double precision"],
      ["up", "boolean"],
      ["error", "text"],
      ["error_message", "text"],
      ["dns_ms", MS],
      ["connect_ms", MS],
      ["tls_ms", MS],
      ["first_byte_ms", MS],
      ["transfer_ms", MS],
      ["remote_address", "inet"],
      ["http_version", "text"],
      ["tls_version", "text"],
      ["region", "text"],
      ["checker", "text"],
    ]);
    const uptime: [string, string][] = [
      ["site", "text"],
      ["site_name", "text"],
      ["window", "text"],
      ["since", TIME],
      ["checks", "bigint"],
      ["failures", "bigint"],
      ["uptime", "double precision"],
      ["response_time_ms_avg", MS],
      ["response_time_ms_p50", MS],
      ["response_time_ms_p95", MS],
      ["response_time_ms_p99", MS],
      ["dns_ms_avg", MS],
      ["connect_ms_avg", MS],
      ["tls_ms_avg", MS],
      ["first_byte_ms_avg", MS],
      ["transfer_ms_avg", MS],
    ];
    assert.deepEqual(await columnsOf(sql, "site_uptime"), uptime);
    // The same, per region.
    assert.deepEqual(await columnsOf(sql, "site_uptime_by_region"), [
      ...uptime.slice(0, 2),
      ["region", "text"],
      ...uptime.slice(2),
    ]);
  });
});

Deno.test("every file in sql/ is in the program's migration list, and nothing else", async () => {
  const onDisk: string[] = [];
  for await (const entry of Deno.readDir(new URL("../../sql/", import.meta.url))) {
    if (entry.name.endsWith(".sql")) onDisk.push(entry.name);
  }
  assert.deepEqual(Object.keys(MIGRATION_FILES).toSorted(), onDisk.toSorted());
});

Deno.test("loadMigrations() rejects a badly named file and two files of one version", async () => {
  await assert.rejects(
    loadMigrations({ "init.sql": "" }),
    /Migration "init.sql" is not named NNNN_name.sql/,
  );
  await assert.rejects(
    loadMigrations({ "0002_a.sql": "", "0002_b.sql": "" }),
    /Migrations "0002_a.sql" and "0002_b.sql" share a version/,
  );
});
