/**
 * The house's first rule for config/: it imports nothing above it. What another room parses (alert
 * rules and channels: alert/; what checkers of the sites topic may resolve: sites/) is handed over,
 * never imported.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** What config/ may import besides itself: the modules below everything. */
const BELOW = ["src/errors.ts", "src/text.ts"];

/** The project's files that `file` imports, directly or not, as `deno info` resolves them. */
async function localGraph(file: string): Promise<string[]> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", file],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
  const { modules } = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string }[];
  };
  return modules.filter((module) => module.specifier.startsWith("file:"))
    .map((module) => relative(ROOT, fileURLToPath(module.specifier)));
}

Deno.test("config/ imports nothing above it: only its own modules, errors.ts and text.ts", async () => {
  const files = [...Deno.readDirSync(`${ROOT}/src/config`)]
    .filter((entry) => entry.name.endsWith(".ts")).map((entry) => `src/config/${entry.name}`);
  assert.ok(files.includes("src/config/sites.ts"));
  const above = new Set<string>();
  for (const file of files) {
    for (const imported of await localGraph(file)) {
      if (!imported.startsWith("src/config/") && !BELOW.includes(imported)) {
        above.add(`${file} → ${imported}`);
      }
    }
  }
  assert.deepEqual([...above].toSorted(), []);
});
