import assert from "node:assert/strict";
import { jsonSchemas, schemaFileText } from "../../src/cli/schema.ts";
import { monitor } from "../_helpers/cli.ts";

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

Deno.test("monitor schema --write creates the directory, or exits 2 naming one it cannot make", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const written = monitor(["schema", "--write", `${dir}/new/schema`]);
    assert.equal(await written.code, 0, written.err());
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      assert.equal(await Deno.readTextFile(`${dir}/new/schema/${name}`), schemaFileText(schema));
    }
    await Deno.writeTextFile(`${dir}/file`, "");
    const refused = monitor(["schema", "--write", `${dir}/file/schema`]);
    assert.equal(await refused.code, 2);
    assert.match(
      refused.err(),
      new RegExp(`^Cannot write the schemas into "${dir}/file/schema": `),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
