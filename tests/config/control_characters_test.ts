/**
 * Control characters act on a terminal (C0, DEL, C1: U+009B starts a sequence) or reorder what a
 * reader sees (the bidirectional controls: U+202E shows "evil\u202Egro.elpmaxe" as
 * "evilexample.org"). Wherever the monitor prints text from outside, each one of them is escaped
 * (JSON lines, quoted values in errors) or replaced (plain text), and a site's name refuses them.
 * The characters are taken from Unicode's own properties, not from the code under test.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/errors.ts";
import { parseSites } from "../../src/sites/file.ts";
import { jsonLine, printable, quoted } from "../../src/text.ts";

/** Every control character: `\p{Cc}` (C0, DEL, C1) and `\p{Bidi_Control}`. */
const CONTROL: readonly string[] = Array.from(
  { length: 0x10000 },
  (_, code) => String.fromCharCode(code),
).filter((c) => /[\p{Cc}\p{Bidi_Control}]/u.test(c));

const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
/** What JSON writes for a character it escapes itself. */
const SHORT: Record<string, string> = {
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
};

Deno.test("the control characters are C0, DEL, C1 and the twelve bidirectional controls", () => {
  assert.equal(CONTROL.length, 32 + 1 + 32 + 12);
  for (const c of ["\u202a", "\u202e", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"]) {
    assert.ok(CONTROL.includes(c), escaped(c));
  }
});

Deno.test("jsonLine() escapes every control character, losslessly", () => {
  for (const c of CONTROL) {
    const line = jsonLine({ name: `a${c}b` });
    assert.equal(line, `{"name":"a${SHORT[c] ?? escaped(c)}b"}`);
    assert.deepEqual(JSON.parse(line), { name: `a${c}b` });
  }
});

Deno.test("printable() replaces every control character", () => {
  for (const c of CONTROL) assert.equal(printable(`a${c}b`), "a\uFFFDb", escaped(c));
});

Deno.test("a value quoted in an error, of the sites file or of a setting, has every control character escaped", () => {
  for (const c of CONTROL) {
    const expected = `"a${SHORT[c] ?? escaped(c)}b"`;
    assert.equal(quoted(`a${c}b`), expected);
    assert.equal(quoted(`a${c}b`), expected);
    // Cut short, too.
    assert.ok(quoted(`${c}${"x".repeat(200)}`).startsWith(`"${SHORT[c] ?? escaped(c)}x`));
  }
});

Deno.test("a site's name may hold no control character: each is refused, shown escaped", () => {
  for (const c of CONTROL) {
    // YAML's own escape puts the character in; a raw C0 character YAML refuses itself.
    const text = `sites:\n  - id: a\n    url: https://a.example/\n    name: "Shop${
      escaped(c)
    }2J"\n`;
    assert.throws(() => parseSites(text, "sites.yaml"), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.deepEqual(error.problems.map((p) => `${p.line}: ${p.path} ${p.message}`), [
        `4: sites[0].name must not contain control characters: current value is "Shop${
          SHORT[c] ?? escaped(c)
        }2J"`,
      ]);
      return true;
    }, escaped(c));
  }
});

Deno.test("a site's name may be any other text: accents, other scripts, emoji", () => {
  for (const name of ["Café Ünïcode", "מוניטור", "مراقب", "商店", "Shop 🛒", "a\u200db"]) {
    const text = `sites:\n  - id: a\n    url: https://a.example/\n    name: ${
      JSON.stringify(name)
    }\n`;
    assert.equal(parseSites(text, "sites.yaml")[0]?.name, name);
  }
});
