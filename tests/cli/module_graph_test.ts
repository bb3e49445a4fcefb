/**
 * Everything `monitor` needs at run time is imported, not read from beside the source: a compiled
 * or installed `monitor` has its module graph and nothing else. These tests run `monitor` from a
 * copy of exactly that graph, in another directory.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { jsonSchemas, schemaFileText } from "../../src/cli/schema.ts";
import { MIGRATION_FILES } from "../../src/db/migrate.ts";
import { testEnv, withDatabase } from "../_helpers/services.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface ModuleInfo {
  readonly specifier: string;
}

/**
 * Copies the local modules of `mod.ts`'s graph (as `deno info` lists them) and the lock file into
 * a new temporary directory, keeping their paths relative to the project.
 *
 * @returns The directory.
 */
async function copyModuleGraph(): Promise<string> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "mod.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
  const { modules } = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: ModuleInfo[];
  };
  const files = modules
    .filter((module) => module.specifier.startsWith("file:"))
    .map((module) => relative(ROOT, fileURLToPath(module.specifier)));
  assert.ok(files.every((file) => !file.startsWith("..")), `outside the project: ${files}`);
  const copy = await Deno.makeTempDir({ prefix: "monitor-graph-" });
  for (const file of new Set([...files, "deno.json", "deno.lock"])) {
    await Deno.mkdir(join(copy, dirname(file)), { recursive: true });
    await Deno.copyFile(join(ROOT, file), join(copy, file));
  }
  return copy;
}

/** Runs the copy's `monitor args…` from an empty directory of its own. */
async function runCopy(
  copy: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const elsewhere = await Deno.makeTempDir({ prefix: "monitor-cwd-" });
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--frozen",
        "--config",
        join(copy, "deno.json"),
        join(copy, "mod.ts"),
        ...args,
      ],
      cwd: elsewhere,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code, out: decode(stdout), err: decode(stderr) };
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
  }
}

Deno.test("monitor schema runs from a copy of mod.ts's module graph alone, in another directory", async () => {
  const copy = await copyModuleGraph();
  try {
    // Nothing the graph does not import came along: no schema/ to print from, no sql/ beyond it.
    await assert.rejects(Deno.stat(join(copy, "schema")), Deno.errors.NotFound);
    const run = await runCopy(copy, ["schema"]);
    assert.equal(run.code, 0, run.err);
    const expected = Object.entries(jsonSchemas())
      .map(([name, schema]) => `// ${name}\n${schemaFileText(schema)}`)
      .join("");
    assert.equal(run.out, expected);
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});

Deno.test({
  name: "monitor migrate applies every migration from a copy of mod.ts's module graph alone",
  // Needs PostgreSQL: runs in `deno task test`, not in `deno task test:unit`.
  ignore: !Deno.env.get("DATABASE_URL"),
  fn: async () => {
    const copy = await copyModuleGraph();
    const env = testEnv();
    try {
      await withDatabase(env, async (sql) => {
        const run = await runCopy(copy, ["migrate"], env);
        assert.equal(run.code, 0, run.err);
        const rows = await sql<{ name: string }[]>`
          SELECT name FROM monitor_migrations ORDER BY version`;
        assert.deepEqual(rows.map((row) => row.name), Object.keys(MIGRATION_FILES).toSorted());
      }, { migrated: false });
    } finally {
      await Deno.remove(copy, { recursive: true });
    }
  },
});
