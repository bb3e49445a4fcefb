import assert from "node:assert/strict";
import { z } from "zod";
import { SETTING_NAMES, SETTINGS } from "../src/config/settings.ts";
import { SITE_ID_RULE } from "../src/config/sites_schema.ts";
import { parseSitesAsWritten, sitesFileSchema } from "../src/sites/file.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

/** The lines of the README section under `heading`, up to the next heading of any level. */
function section(heading: string): string[] {
  const lines = readme.split("\n");
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `README has no ${heading}`);
  const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && !inCode(lines, i));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Whether line `at` is inside a fenced code block (a YAML comment starts with # too). */
function inCode(lines: readonly string[], at: number): boolean {
  return lines.slice(0, at).filter((line) => line.startsWith("```")).length % 2 === 1;
}

/**
 * The keys of the objects that `schema` accepts, nested ones as `parent.child`, in the schema's
 * order; a record's keys are the user's own, so it has none.
 */
function keysOf(schema: z.core.$ZodType, prefix = ""): string[] {
  if (
    schema instanceof z.ZodOptional || schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault
  ) return keysOf(schema.unwrap(), prefix);
  if (schema instanceof z.ZodArray) return keysOf(schema.element, prefix);
  if (schema instanceof z.ZodUnion) {
    return [...new Set(schema.options.flatMap((option) => keysOf(option, prefix)))];
  }
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape).flatMap(([key, value]) => [
      `${prefix}${key}`,
      ...keysOf(value, `${prefix}${key}.`),
    ]);
  }
  return [];
}

/** The README's settings table, as the settings' schema says it: variable, default, meaning. */
function settingRows(): string[][] {
  return SETTING_NAMES.map((name) => {
    const { default: text, description } = SETTINGS[name];
    return [`\`${name}\``, text === "" ? "(unset)" : `\`${text}\``, description];
  });
}

/** The table as markdown, for pasting into the README when a setting changes. */
function settingsTable(): string {
  const rows = [["variable", "default", "meaning"], ...settingRows()];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  const rule = `| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join("\n");
}

Deno.test("the README's configuration table is the settings' schema: every variable, its default and meaning, in order", () => {
  const rows = readme.split("\n")
    .filter((line) => /^\| `[A-Z][A-Z0-9_]*` +\|/.test(line))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
  assert.deepEqual(rows, settingRows(), `the README's table should be:\n${settingsTable()}\n`);
});

Deno.test("the README's sites-file table lists every key a site may have, and no other", () => {
  const siteKeys = keysOf(sitesFileSchema.shape.sites);
  const rows = new Map(
    section("## Sites file").flatMap((line) => {
      const key = /^\| `([a-z_]+)` +\|/.exec(line)?.[1];
      return key === undefined ? [] : [[key, line] as const];
    }),
  );
  const topLevel = siteKeys.filter((key) => !key.includes("."));
  assert.deepEqual([...rows.keys()].toSorted(), topLevel.toSorted());
  // Nested keys (a pattern's `{ regex, flags }`) are named in their parent's row.
  for (const nested of siteKeys.filter((key) => key.includes("."))) {
    const [parent, child] = [nested.slice(0, nested.lastIndexOf(".")), nested.split(".").at(-1)!];
    assert.match(
      rows.get(parent) ?? "",
      new RegExp(`\\b${child}\\b`),
      `${nested} is not in its row`,
    );
  }
});

Deno.test("the README's sites-file example says which keys the defaults block cannot set", () => {
  const comment = section("## Sites file").find((line) => line.startsWith("defaults: #"));
  const listed = /any per-site key below except (.+)$/.exec(comment ?? "")?.[1];
  assert.ok(listed !== undefined, "the defaults line of the example has no comment listing them");
  const defaults = new Set(keysOf(sitesFileSchema.shape.defaults));
  const siteOnly = keysOf(sitesFileSchema.shape.sites).filter((key) =>
    !key.includes(".") && !defaults.has(key)
  );
  assert.deepEqual(listed.split(/, | and /).toSorted(), siteOnly.toSorted());
});

Deno.test("the README's quickstart is the two tasks deno.json defines", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.match(readme, /^deno task start /m);
  assert.match(readme, /^deno task test /m);
  assert.ok(config.tasks.start && config.tasks.test);
});

Deno.test("the README's /metrics list is every metric src/metrics.ts declares", async () => {
  const source = await Deno.readTextFile(new URL("../src/metrics.ts", import.meta.url));
  const declared = new Set([...source.matchAll(/"(monitor_[a-z_]+)"/g)].map((m) => m[1]!));
  const text = section("### Metrics, health and logs").join("\n");
  const list = /^- `\/metrics`[^]*?(?=^- )/m.exec(text)?.[0] ?? "";
  const listed = new Set([...list.matchAll(/`(monitor_[a-z_]+)/g)].map((m) => m[1]!));
  assert.ok(declared.size > 0);
  assert.deepEqual([...listed].toSorted(), [...declared].toSorted());
});

Deno.test("the README's sites-file example states the rule for ids that the program enforces", () => {
  const line = section("## Sites file").find((text) => text.startsWith("  - id: shop #")) ?? "";
  assert.ok(line.includes(SITE_ID_RULE), `the example's id comment should say: ${SITE_ID_RULE}`);
  const id = sitesFileSchema.shape.sites.element.shape.id;
  assert.deepEqual(["a", "9", ".a", "_a", "-a"].map((text) => id.safeParse(text).success), [
    true,
    true,
    false,
    false,
    false,
  ]);
});

Deno.test("every duration the README's sites-file table gives for interval and timeout is valid there", () => {
  for (const key of ["interval", "timeout"] as const) {
    const row = section("## Sites file").find((line) => line.startsWith(`| \`${key}\``)) ?? "";
    const durations = [...row.matchAll(/`(\d[\dhms]*)`/g)].map((match) => match[1]!);
    assert.ok(durations.length > 0, `no durations in the ${key} row`);
    const schema = sitesFileSchema.shape.defaults.unwrap().shape[key];
    for (const duration of durations) {
      assert.ok(schema.safeParse(duration).success, `${key}: ${duration} is refused`);
    }
  }
});

Deno.test("the README's sites-file example passes the checks of sites apply as it is", () => {
  const lines = section("## Sites file");
  const start = lines.indexOf("```yaml");
  const yaml = lines.slice(start + 1, lines.indexOf("```", start)).join("\n");
  const { sites } = parseSitesAsWritten(yaml, "README.md");
  assert.deepEqual(sites.map((site) => site.id), ["shop", "api"]);
});
