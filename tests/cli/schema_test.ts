import assert from "node:assert/strict";
import { jsonSchemas, schemaFileText } from "../../src/cli/schema.ts";

Deno.test("the committed JSON Schemas match the schemas the code validates with", async () => {
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    const committed = await Deno.readTextFile(new URL(`../../schema/${name}`, import.meta.url));
    assert.equal(
      committed,
      schemaFileText(schema),
      `schema/${name} is stale: run "deno task schema"`,
    );
  }
});

Deno.test("monitor schema piped into a reader that stops early ends quietly", async () => {
  const mod = new URL("../../mod.ts", import.meta.url).pathname;
  const { code, stderr } = await new Deno.Command("bash", {
    args: ["-c", `"${Deno.execPath()}" run --allow-all "${mod}" schema | true`],
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(stderr), "");
  assert.equal(code, 0);
});
