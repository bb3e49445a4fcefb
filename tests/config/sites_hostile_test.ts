/**
 * A hostile or broken sites file is a configuration error, never a bug: `monitor produce` exits 2
 * naming the file (and the line, where there is one), with no stack trace, quickly and with a
 * message of bounded size.
 */
import assert from "node:assert/strict";
import { monitor } from "../_helpers/cli.ts";
import { closedPort } from "../_helpers/http_target.ts";
import { ConfigError, formatProblem } from "../../src/errors.ts";
import { MAX_SITES_FILE_BYTES } from "../../src/sites/file.ts";
import { loadSites, parseSites } from "../../src/sites/file.ts";

const SITE = "sites:\n  - id: a\n    url: https://example.com/\n";
const utf8 = (text: string) => new TextEncoder().encode(text);

/** Nine lists of nine aliases of the one before: 9^9 strings once expanded. */
function aliasBomb(): string {
  const lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i <= 9; i++) {
    lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(", ")}]`);
  }
  return `${SITE}${lines.join("\n")}\n`;
}

/** Each hostile file, and the line its first problem is on (undefined: the whole file). */
const HOSTILE: Record<string, { readonly bytes: Uint8Array; readonly line?: number }> = {
  "alias-bomb.yaml": { bytes: utf8(aliasBomb()), line: 5 },
  "unknown-alias.yaml": { bytes: utf8("sites: *nowhere\n"), line: 1 },
  "alias-to-itself.yaml": { bytes: utf8("sites: &s [*s]\n"), line: 1 },
  "header-alias-to-itself.yaml": {
    bytes: utf8(`${SITE}    headers: &h\n      x-loop: *h\n`),
    line: 5,
  },
  "open-flow-sequences.yaml": { bytes: utf8("[".repeat(100_000)), line: 1 },
  "nested-flow-sequences.yaml": {
    bytes: utf8(`sites: ${"[".repeat(1_000)}${"]".repeat(1_000)}\n`),
    line: 1,
  },
  "nested-block-sequences.yaml": {
    bytes: utf8(Array.from({ length: 200 }, (_, i) => `${" ".repeat(i)}- `).join("\n")),
    line: 65,
  },
  "nested-mappings.yaml": {
    bytes: utf8(`${"{a: ".repeat(10_000)}1${"}".repeat(10_000)}\n`),
    line: 1,
  },
  "huge.yaml": { bytes: new Uint8Array(MAX_SITES_FILE_BYTES + 1).fill(0x20) },
  "long-line.yaml": {
    bytes: utf8(`${SITE}    interval: ${"x".repeat(2_000_000)}\n`),
    line: 4,
  },
  "long-key.yaml": { bytes: utf8(`${"k".repeat(2_000)}: 1\n${SITE}`), line: 1 },
  "duplicate-keys.yaml": { bytes: utf8(`${SITE}sites: []\n`), line: 4 },
  "js-function-tag.yaml": {
    bytes: utf8("sites:\n  - id: a\n    url: !!js/function 'function () { return 1 }'\n"),
    line: 3,
  },
  "custom-tag.yaml": { bytes: utf8("sites: !include other.yaml\n"), line: 1 },
  "binary-tag.yaml": {
    bytes: utf8("sites:\n  - id: a\n    url: https://example.com/\n    body: !!binary aGk=\n"),
    line: 4,
  },
  "merge-key.yaml": {
    bytes: utf8(
      "sites:\n  - &base\n    id: a\n    url: https://example.com/\n  - <<: *base\n    id: b\n",
    ),
    line: 5,
  },
  "yaml-1.1.yaml": { bytes: utf8(`%YAML 1.1\n---\n${SITE}`), line: 1 },
  "unknown-directive.yaml": { bytes: utf8(`%FOO bar\n---\n${SITE}`), line: 1 },
  "invalid-utf8.yaml": {
    bytes: new Uint8Array([...utf8(`${SITE}    name: caf`), 0xe9, 0x0a]),
    line: 4,
  },
  "utf16.yaml": {
    bytes: new Uint8Array([0xff, 0xfe, ...[...SITE].flatMap((c) => [c.charCodeAt(0), 0])]),
    line: 1,
  },
  "binary.yaml": {
    bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
    line: 1,
  },
  "bom-only.yaml": { bytes: new Uint8Array([0xef, 0xbb, 0xbf]) },
  "empty.yaml": { bytes: new Uint8Array() },
  "comments-only.yaml": { bytes: utf8("# nothing here\n\n") },
  "scalar.yaml": { bytes: utf8("https://example.com/\n"), line: 1 },
  "list.yaml": { bytes: utf8("- id: a\n  url: https://example.com/\n"), line: 1 },
  "null.yaml": { bytes: utf8("~\n"), line: 1 },
  "two-documents.yaml": { bytes: utf8(`${SITE}---\n${SITE}`), line: 4 },
  "tabs.yaml": { bytes: utf8("sites:\n\t- id: a\n\t  url: https://example.com/\n"), line: 2 },
  "nul-byte.yaml": {
    bytes: utf8("sites:\n  - id: a\u0000\n    url: https://example.com/\n"),
    line: 2,
  },
  "escape-byte.yaml": { bytes: utf8(`${SITE}    name: "\u001b[2J"\n`), line: 4 },
  "proto-key.yaml": { bytes: utf8(`__proto__: { polluted: true }\n${SITE}`), line: 1 },
  "collection-key.yaml": { bytes: utf8(`? [a, b]\n: 1\n${SITE}`), line: 1 },
};

const directory = await Deno.makeTempDir();
globalThis.addEventListener("unload", () => Deno.removeSync(directory, { recursive: true }));

Deno.test("monitor produce --once exits 2 naming each hostile sites file, with no stack trace", async (t) => {
  const env = { KAFKA_BROKERS: `127.0.0.1:${closedPort()}` };
  for (const [name, { bytes, line }] of Object.entries(HOSTILE)) {
    await t.step(name, async () => {
      const path = `${directory}/${name}`;
      await Deno.writeFile(path, bytes);
      const started = performance.now();
      const run = monitor(["produce", "--once", "--config", path], env);
      const code = await run.code;
      const output = `${run.out()}${run.err()}`;
      const what = `${name}:\n${output.slice(0, 2_000)}`;
      assert.equal(code, 2, what);
      assert.ok(output.startsWith(line === undefined ? `${path}: ` : `${path}:${line}: `), what);
      assert.match(output, /\n\d+ problems? found; nothing was started\n$/, what);
      assert.ok(!output.includes("Unexpected error"), what);
      assert.ok(!/^ {4}at /m.test(output), what);
      assert.ok(output.length < 3_000, `${name}: ${output.length} characters of messages`);
      assert.ok(performance.now() - started < 10_000, `${name}: took too long`);
    });
  }
});

Deno.test("monitor produce --once exits 2 naming a directory or a device given as the sites file", async () => {
  for (const path of [directory, "/dev/zero"]) {
    const run = monitor(["produce", "--once", "--config", path], {
      KAFKA_BROKERS: `127.0.0.1:${closedPort()}`,
    });
    assert.equal(await run.code, 2, run.err());
    assert.ok(run.err().startsWith(`${path}: `), run.err());
    assert.ok(!/^ {4}at /m.test(run.err()), run.err());
  }
});

/** The problems of a file, formatted as the user sees them, without the directory. */
async function problemsOf(name: string): Promise<string[]> {
  const path = `${directory}/${name}`;
  await Deno.writeFile(path, HOSTILE[name]!.bytes);
  const error = await loadSites(path, {}).then(() => assert.fail(`${name} was accepted`), (e) => e);
  assert.ok(error instanceof ConfigError, String(error));
  return error.problems.map((p) => formatProblem({ ...p, file: name }));
}

Deno.test("loadSites() says why each kind of hostile file is refused, and where", async () => {
  assert.deepEqual(await problemsOf("alias-bomb.yaml"), [
    "alias-bomb.yaml:5: expands its aliases (*name) more than 100 times: write the values out instead",
  ]);
  assert.deepEqual(await problemsOf("unknown-alias.yaml"), [
    "unknown-alias.yaml:1: refers to *nowhere, but no &nowhere comes before it",
  ]);
  assert.deepEqual(await problemsOf("nested-block-sequences.yaml"), [
    "nested-block-sequences.yaml:65: is nested more than 64 levels deep: is it a sites file?",
  ]);
  assert.deepEqual(await problemsOf("huge.yaml"), [
    "huge.yaml: is larger than 8 MiB: is it a sites file?",
  ]);
  assert.deepEqual(await problemsOf("long-line.yaml"), [
    `long-line.yaml:4: sites[0].interval must be a duration such as "30s", "5m" or "1h": current value is "${
      "x".repeat(100)
    }…" (2000000 characters)`,
  ]);
  assert.deepEqual(await problemsOf("js-function-tag.yaml"), [
    "js-function-tag.yaml:3: uses the tag !!js/function, which a sites file does not support: remove it",
  ]);
  assert.deepEqual(await problemsOf("merge-key.yaml"), [
    "merge-key.yaml:5: sites[1].url is required",
    "merge-key.yaml:5: sites[1].<< is a merge key, which a sites file does not support: use the defaults block or write the keys out",
  ]);
  assert.deepEqual(await problemsOf("yaml-1.1.yaml"), [
    "yaml-1.1.yaml:1: declares YAML 1.1 (%YAML): a sites file is YAML 1.2; remove the line",
  ]);
  assert.deepEqual(await problemsOf("invalid-utf8.yaml"), [
    "invalid-utf8.yaml:4: is not UTF-8 text: save it as UTF-8 (is it a sites file?)",
  ]);
  assert.deepEqual(await problemsOf("nul-byte.yaml"), [
    "nul-byte.yaml:2: contains the control character U+0000 (column 10), which YAML does not allow: is it a text file?",
  ]);
  assert.deepEqual(await problemsOf("two-documents.yaml"), [
    "two-documents.yaml:4: holds more than one YAML document (a second ---): a sites file is one document",
  ]);
  assert.deepEqual(await problemsOf("scalar.yaml"), [
    'scalar.yaml:1: must be a mapping with a "sites" list: it is "https://example.com/"',
  ]);
  assert.deepEqual(await problemsOf("list.yaml"), [
    'list.yaml:1: must be a mapping with a "sites" list: it is a list',
  ]);
  assert.deepEqual(await problemsOf("empty.yaml"), ["empty.yaml: sites is required"]);
});

Deno.test("parseSites() accepts a byte order mark, CRLF line ends and aliases used sparingly", () => {
  const text = "\uFEFFdefaults:\r\n  headers: &h { accept: text/html }\r\nsites:\r\n" +
    "  - id: a\r\n    url: https://example.com/\r\n    headers: *h\r\n";
  const [site] = parseSites(text, "bom.yaml");
  assert.deepEqual(site?.headers, { accept: "text/html" });
});
