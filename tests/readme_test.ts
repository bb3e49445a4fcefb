import assert from "node:assert/strict";
import { z } from "zod";
import { SETTING_NAMES, SETTINGS } from "../src/config/settings_schema.ts";
import { SITE_ID_RULE } from "../src/config/sites_schema.ts";
import { parseSitesAsWritten, sitesFileSchema } from "../src/sites/file.ts";

const ROOT = new URL("../", import.meta.url);
const README_MAX_LINES = 400;

/** The text of `path`, relative to the repository. */
function read(path: string): string {
  return Deno.readTextFileSync(new URL(path, ROOT));
}

const readme = read("README.md");

/** The lines of `path` under `heading`, up to the next heading of any level. */
function section(path: string, heading: string): string[] {
  const lines = read(path).split("\n");
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `${path} has no ${heading}`);
  const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && !inCode(lines, i));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The section of docs/configuration.md that describes the sites file. */
function sitesFile(): string[] {
  return section("docs/configuration.md", "## Sites file");
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

Deno.test("the settings table of docs/configuration.md lists every variable the settings' schema reads, with its default and a meaning, in order", () => {
  const rows = section("docs/configuration.md", "## Settings")
    .filter((line) => /^\| `[A-Z][A-Z0-9_]*` +\|/.test(line))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
  const expected = SETTING_NAMES.map((name) => {
    const text = SETTINGS[name].default;
    return [`\`${name}\``, text === "" ? "(unset)" : `\`${text}\``];
  });
  assert.deepEqual(rows.map((row) => row.slice(0, 2)), expected);
  for (const row of rows) assert.ok(row.length === 3 && row[2] !== "", `${row[0]} has no meaning`);
});

Deno.test("the sites-file table of docs/configuration.md lists every key a site may have, and no other", () => {
  const siteKeys = keysOf(sitesFileSchema.shape.sites);
  const rows = new Map(
    sitesFile().flatMap((line) => {
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

Deno.test("the sites-file example of docs/configuration.md says which keys the defaults block cannot set", () => {
  const comment = sitesFile().find((line) => line.startsWith("defaults: #"));
  const listed = /any per-site key below except (.+)$/.exec(comment ?? "")?.[1];
  assert.ok(listed !== undefined, "the defaults line of the example has no comment listing them");
  const defaults = new Set(keysOf(sitesFileSchema.shape.defaults));
  const siteOnly = keysOf(sitesFileSchema.shape.sites).filter((key) =>
    !key.includes(".") && !defaults.has(key)
  );
  assert.deepEqual(listed.split(/, | and /).toSorted(), siteOnly.toSorted());
});

Deno.test("the README's quickstart is the two tasks deno.json defines", () => {
  const config = JSON.parse(read("deno.json"));
  assert.match(readme, /^deno task start /m);
  assert.match(readme, /^deno task test /m);
  assert.ok(config.tasks.start && config.tasks.test);
});

Deno.test("the /metrics list of docs/operations.md is every metric src/metrics.ts declares", () => {
  const source = read("src/metrics.ts");
  const declared = new Set([...source.matchAll(/"(monitor_[a-z_]+)"/g)].map((m) => m[1]!));
  const text = section("docs/operations.md", "## Metrics, health and logs").join("\n");
  const list = /^- `\/metrics`[^]*?(?=^- )/m.exec(text)?.[0] ?? "";
  const listed = new Set([...list.matchAll(/`(monitor_[a-z_]+)/g)].map((m) => m[1]!));
  assert.ok(declared.size > 0);
  assert.deepEqual([...listed].toSorted(), [...declared].toSorted());
});

Deno.test("the sites-file example of docs/configuration.md states the rule for ids that the program enforces", () => {
  const line = sitesFile().find((text) => text.startsWith("  - id: shop #")) ?? "";
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

Deno.test("every duration the sites-file table gives for interval and timeout is valid there", () => {
  for (const key of ["interval", "timeout"] as const) {
    const row = sitesFile().find((line) => line.startsWith(`| \`${key}\``)) ?? "";
    const durations = [...row.matchAll(/`(\d[\dhms]*)`/g)].map((match) => match[1]!);
    assert.ok(durations.length > 0, `no durations in the ${key} row`);
    const schema = sitesFileSchema.shape.defaults.unwrap().shape[key];
    for (const duration of durations) {
      assert.ok(schema.safeParse(duration).success, `${key}: ${duration} is refused`);
    }
  }
});

Deno.test("the sites-file example of docs/configuration.md passes the checks of sites apply as it is", () => {
  const lines = sitesFile();
  const start = lines.indexOf("```yaml");
  const yaml = lines.slice(start + 1, lines.indexOf("```", start)).join("\n");
  const { sites } = parseSitesAsWritten(yaml, "docs/configuration.md");
  assert.deepEqual(sites.map((site) => site.id), ["shop", "api"]);
});

Deno.test("the README is short enough to read to the end", () => {
  const lines = readme.split("\n").length - 1;
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines: move the depth into docs/`);
});

/** GitHub's pages of the repository (not files), which README.md links to as paths. */
const GITHUB_PAGES = new Set(["../../releases"]);

/** The markdown files whose links are checked: the README and every file in docs/. */
function markdownFiles(): string[] {
  const docs = [...Deno.readDirSync(new URL("docs/", ROOT))]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`);
  return ["README.md", ...docs.toSorted()];
}

/** The targets of the links and images in `markdown`, leaving out code blocks and code spans. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^```[^]*?^```$/gm, "").replace(/`[^`]*`/g, "");
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
}

/** The anchors GitHub gives the headings of `markdown`: lower case, punctuation dropped, spaces as -. */
function anchors(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const counts = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? undefined : /^#{1,6} (.+)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "").replaceAll(" ", "-");
    const count = counts.get(slug) ?? 0;
    counts.set(slug, count + 1);
    slugs.add(count === 0 ? slug : `${slug}-${count}`); // a repeated heading gets -1, -2, …
  }
  return slugs;
}

Deno.test("every relative link of the README and docs/ points at a file and heading that exist", () => {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    for (const target of linkTargets(read(file))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      if (file === "README.md" && GITHUB_PAGES.has(target)) continue;
      const [path = "", anchor] = target.split("#");
      const url = new URL(path, new URL(file, ROOT));
      const where = url.href.startsWith(ROOT.href) ? url.href.slice(ROOT.href.length) : undefined;
      if (where === undefined) {
        broken.push(`${file}: ${target} leaves the repository`);
        continue;
      }
      const stat = (() => {
        try {
          return Deno.statSync(url);
        } catch {
          return undefined;
        }
      })();
      if (stat === undefined) broken.push(`${file}: ${target}: no ${where}`);
      else if (anchor !== undefined && !anchors(read(where)).has(anchor)) {
        broken.push(`${file}: ${target}: no heading #${anchor} in ${where}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
