import assert from "node:assert/strict";
import { readSettings } from "../../src/config/settings.ts";
import { connectDatabase } from "../../src/db/client.ts";
import { loadMigrations, migrate } from "../../src/db/migrate.ts";
import { MIGRATION_FILES } from "../../src/db/migrations.ts";
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
      /Migration "0001_init.sql" was changed after it was applied/,
    );
  });
});

Deno.test("the check_results view has the documented columns and types", async () => {
  await withDatabase(testEnv(), async (sql) => {
    const columns = await sql<{ column_name: string; data_type: string }[]>`
      SELECT column_name, data_type FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'check_results'`;
    const types = Object.fromEntries(columns.map((c) => [c.column_name, c.data_type]));
    assert.deepEqual(
      {
        check_id: types.check_id,
        site: types.site,
        url: types.url,
        checked_at: types.checked_at,
        response_time_ms: types.response_time_ms,
        status_code: types.status_code,
        pattern: types.pattern,
        pattern_matched: types.pattern_matched,
        error: types.error,
      },
      {
        check_id: "uuid",
        site: "text",
        url: "text",
        checked_at: "timestamp with time zone",
        response_time_ms: "double precision",
        status_code: "integer",
        pattern: "text",
        pattern_matched: "boolean",
        error: "text",
      },
    );
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
