/**
 * The published JSON Schema of the sites file states the bounds of each duration the program
 * enforces: an editor that checks as you type refuses what `monitor` refuses, and no more.
 */
import assert from "node:assert/strict";
import { sitesFileSchema } from "../../src/sites/file.ts";

const published = JSON.parse(
  await Deno.readTextFile(new URL("../../schema/sites.json", import.meta.url)),
);

interface StringSchema {
  readonly type?: string;
  readonly pattern?: string;
  readonly allOf?: readonly StringSchema[];
}

/** Whether a JSON Schema of a string accepts `text` (it has nothing but a type and patterns). */
function accepts(schema: StringSchema, text: string): boolean {
  const known = new Set(["type", "pattern", "allOf", "description"]);
  assert.deepEqual(Object.keys(schema).filter((key) => !known.has(key)), []);
  const patterns = [schema.pattern, ...(schema.allOf ?? []).map((part) => part.pattern)];
  return schema.type === "string" &&
    patterns.every((pattern) => pattern === undefined || new RegExp(pattern, "u").test(text));
}

const DURATIONS = [
  "",
  "soon",
  "0s",
  "05s",
  "99ms",
  "100ms",
  "500ms",
  "4s",
  "4999ms",
  "4s999ms",
  "5s",
  "5000ms",
  "30s",
  "90s",
  "1m30s",
  "1.5m",
  "0.5s",
  "1m90s",
  "30s1m",
  "1s1s1s1s1s",
  "1h0m",
  "2h30m",
  "23h59m59s999ms",
  "24h",
  "1440m",
  "86400s",
  "86400000ms",
  "24h1ms",
  "86400001ms",
  "25h",
  "1d",
];

Deno.test("the published sites-file schema accepts exactly the durations monitor accepts, for interval and timeout", () => {
  const written = {
    defaults: published.properties.defaults.properties,
    site: published.properties.sites.items.properties,
  };
  for (const key of ["interval", "timeout"] as const) {
    const program = sitesFileSchema.shape.defaults.unwrap().shape[key];
    for (const where of ["defaults", "site"] as const) {
      for (const duration of DURATIONS) {
        assert.equal(
          accepts(written[where][key], duration),
          program.safeParse(duration).success,
          `${where} ${key}: ${JSON.stringify(duration)}`,
        );
      }
    }
  }
});

Deno.test("the published schema refuses an interval under 5s or over 24h, as monitor does", () => {
  const interval = published.properties.sites.items.properties.interval;
  assert.deepEqual(
    ["500ms", "4s", "25h", "5s", "24h", "1m30s"].map((text) => accepts(interval, text)),
    [false, false, false, true, true, true],
  );
});
