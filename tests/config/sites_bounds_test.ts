/**
 * Every resource a site asks for has a bound, checked at the file's line: a pattern's length and
 * the size of its compiled program, the headers, the request body, the name and the URL. And a
 * result, which carries the pattern, stays as small as the file allows.
 */
import assert from "node:assert/strict";
import { RE2JS } from "re2js";
import { checkResultSchema } from "../../src/check/result.ts";
import { makeResult } from "../_helpers/results.ts";
import { ConfigError } from "../../src/errors.ts";
import { parseSites } from "../../src/sites/file.ts";
import { LIMITS, MAX_PATTERN_SOURCE_CHARS } from "../../src/config/sites_schema.ts";
import { programSize } from "../../src/config/pattern_size.ts";

/** The problems `parseSites` finds in `text`, as `line: path message`; none when it is valid. */
function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseSites(text, "sites.yaml", env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map((p) => `${p.line}: ${p.path} ${p.message}`);
  }
  return [];
}

/** The problems of a file of one site with `keys` besides its id and URL. */
function problemsOf(keys: string): string[] {
  return problems(`sites:\n  - id: a\n    url: https://a.example/\n${keys}`);
}

const json = (text: string) => JSON.stringify(text);

/** A pattern of `chars` characters that compiles to a fifth as many instructions. */
const classes = (chars: number) => "[a-z]".repeat(Math.floor(chars / 5)) + "a".repeat(chars % 5);

Deno.test("parseSites() refuses a pattern over 4096 characters at its line, and takes one of 4096", () => {
  assert.equal(LIMITS.maxPatternChars, 4_096);
  assert.deepEqual(problemsOf(`    pattern: ${json(classes(4_096))}\n`), []);
  const shown = `"${"[a-z]".repeat(20)}…" (4097 characters)`;
  assert.deepEqual(problemsOf(`    pattern: ${json(classes(4_097))}\n`), [
    `4: sites[0].pattern must be at most 4096 characters: current value is ${shown}`,
  ]);
  assert.deepEqual(problemsOf(`    pattern: { regex: ${json(classes(4_097))}, flags: i }\n`), [
    `4: sites[0].pattern.regex must be at most 4096 characters: current value is ${shown}`,
  ]);
});

Deno.test("parseSites() neither measures nor compiles a pattern over the length bound: one problem, fast", () => {
  // Not RE2 either (an unclosed group), and 4 MB: the length alone is reported.
  const problems = problemsOf(`    pattern: ${json(`(${"a".repeat(4_000_000)}`)}\n`);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^4: sites\[0\]\.pattern must be at most 4096 characters: /);
});

Deno.test("parseSites() refuses a short pattern that compiles to over 1000 instructions, without compiling it", () => {
  // 28 characters, 4003 instructions: matching a 1 MiB body took two minutes.
  assert.deepEqual(problemsOf(`    pattern: "x{1000}x{1000}x{1000}x{1000}$"\n`), [
    '4: sites[0].pattern is too complex: it compiles to about 4005 instructions, more than the 1000 allowed (x{n,m} is x repeated m times): current value is "x{1000}x{1000}x{1000}x{1000}$"',
  ]);
  // 3900 characters, 600,000 instructions: compiling it took 4 s and 480 MB.
  const [problem] = problemsOf(`    pattern: ${json("(?:x{0,1000})".repeat(300))}\n`);
  assert.match(problem ?? "", /pattern is too complex: it compiles to about 600600 instructions/);
  assert.deepEqual(problemsOf(`    pattern: '[\\s\\S]{0,480}"status":\\s*"ok"'\n`), []);
});

Deno.test("programSize() estimates at least what re2js compiles, for every kind of RE2 syntax", () => {
  const patterns = [
    "Example Domain",
    "(?i)example domain",
    '"status":\\s*"ok"',
    "x{1000}",
    "x{0,1000}",
    "x{2,}",
    "a{,5}",
    "(?:abc|def){100}",
    "(?:(?:a{10}){10}){10}",
    "(?P<name>a|b)+c*d?",
    "(?<name>a)",
    "[]a]{10}",
    "[^]a]{10}",
    "[[:alpha:]\\]]{5}",
    "\\Qa.b{3}\\E{3}",
    "\\p{Greek}{100}\\pL\\x{263a}\\d",
    "(?s).{0,500}zz",
    "a|b|c|d",
    "^$",
    "",
    "(?i)(?m)(?s:a)b",
  ];
  for (const pattern of patterns) {
    const compiled = RE2JS.compile(pattern).programSize();
    // (re2js adds up to three instructions to any program: to match, to fail.)
    const estimate = programSize(pattern);
    assert.ok(estimate + 3 >= compiled, `${pattern}: ${estimate} for ${compiled}`);
  }
  // What RE2 refuses is estimated all the same; nesting is no recursion.
  assert.equal(programSize("(a"), 3);
  assert.equal(programSize(")a|"), 2);
  assert.equal(programSize(`${"(".repeat(100_000)}a${")".repeat(100_000)}`), 200_001);
});

Deno.test("parseSites() bounds the headers, the body, the name and the URL of a site, each at its line", () => {
  const headers = (count: number, chars: number) =>
    Array.from({ length: count }, (_, i) => `      h${i}: ${json("v".repeat(chars))}\n`).join("");
  // 100 headers, 16,290 characters in all.
  assert.deepEqual(problemsOf(`    headers:\n${headers(100, 160)}`), []);
  assert.deepEqual(problemsOf(`    headers:\n${headers(101, 1)}`), [
    "5: sites[0].headers must be at most 100 headers",
  ]);
  assert.deepEqual(problemsOf(`    headers:\n      h: ${json("v".repeat(16_384))}\n`), [
    "5: sites[0].headers must be at most 16384 characters of names and values together",
  ]);
  assert.deepEqual(problemsOf(`    method: POST\n    body: ${json("b".repeat(65_536))}\n`), []);
  assert.deepEqual(
    problemsOf(`    method: POST\n    body: ${json("b".repeat(65_537))}\n`).map((p) =>
      p.replace(/: current value is .*/, "")
    ),
    ["5: sites[0].body must be at most 65536 characters"],
  );
  assert.deepEqual(
    problemsOf(`    name: ${json("n".repeat(201))}\n`).map((p) => p.replace(/: current .*/, "")),
    ["4: sites[0].name must be at most 200 characters"],
  );
  const long = `https://a.example/${"p".repeat(65_536)}`;
  assert.deepEqual(
    problems(`sites:\n  - id: a\n    url: ${long}\n`).map((p) => p.replace(/: current .*/, "")),
    ["3: sites[0].url must be at most 65536 characters"],
  );
});

Deno.test("a result carries the pattern whole, and the result's format refuses a longer one", () => {
  const text = `sites:\n  - id: a\n    url: https://a.example/\n    pattern: { regex: ${
    json(classes(LIMITS.maxPatternChars))
  }, flags: sim }\n`;
  const [site] = parseSites(text, "sites.yaml", {});
  assert.equal(site?.pattern?.source.length, MAX_PATTERN_SOURCE_CHARS);
  const result = (pattern: string) => makeResult({ pattern, patternMatched: true });
  assert.equal(checkResultSchema.safeParse(result(site!.pattern!.source)).success, true);
  assert.equal(checkResultSchema.safeParse(result(`${site!.pattern!.source}a`)).success, false);
});

Deno.test("parseSites() refuses a pattern whose references make it longer as written than results may carry", () => {
  const written = "${SITE_P}".repeat(500);
  const text = `sites:\n  - id: a\n    url: https://a.example/\n    pattern: ${json(written)}\n`;
  assert.deepEqual(problems(text, { SITE_P: "a" }), [
    "4: sites[0].pattern must be at most 4096 characters as written",
  ]);
});
