import assert from "node:assert/strict";
import { SETTINGS } from "../src/config/settings.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

Deno.test("the README's configuration table lists every setting with its default", () => {
  for (const [name, [defaultValue]] of Object.entries(SETTINGS)) {
    const row = readme.split("\n").find((line) => line.startsWith(`| \`${name}\` `));
    assert.ok(row !== undefined, `README has no row for ${name}`);
    const cells = row.split("|").map((cell) => cell.trim());
    assert.equal(cells[2], defaultValue === "" ? "(unset)" : `\`${defaultValue}\``, name);
  }
});

Deno.test("the README's quickstart is the two tasks deno.json defines", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.match(readme, /^deno task start /m);
  assert.match(readme, /^deno task test /m);
  assert.ok(config.tasks.start && config.tasks.test);
});

Deno.test("every test file runs in deno task test or deno task test:faults", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const paths = `${config.tasks.test} ${config.tasks["test:faults"]}`.split(" ")
    .filter((word) => word.startsWith("tests/"));
  for await (const entry of Deno.readDir(new URL(".", import.meta.url))) {
    if (entry.name.startsWith("_") || entry.name === "testdata") continue;
    const path = `tests/${entry.name}${entry.isDirectory ? "/" : ""}`;
    if (entry.isDirectory || entry.name.endsWith("_test.ts")) {
      assert.ok(paths.includes(path), `${path} is in neither task`);
    }
  }
});
