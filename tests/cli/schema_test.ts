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
