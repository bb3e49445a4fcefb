/**
 * A message about a value that came from a `${NAME}` reference names the reference, never what it
 * stands for (a secret, often): for every key that takes a reference, whatever the environment
 * gives, both where a sites file is loaded (`produce --config`, `alert --config`) and where a
 * checker of the sites topic resolves a site. The property: two values that break a rule the
 * same way give the same messages, word for word (so no piece of either, nor its position or
 * length, is in them), and the messages quote the reference.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseAlertConfig, parseSites } from "../../src/sites/file.ts";
import { ConfigError, formatProblem } from "../../src/errors.ts";
import { checkSite, configErrorResult } from "../../src/check/check_site.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import { checkerSites, isMisconfigured, resolveSite } from "../../src/sites/checker_sites.ts";

const REF = "${SITE_SECRET}";

/** Text that no message has by chance: what must never be seen again. */
const token = fc.stringMatching(/^[A-Za-z0-9]{3,10}$/).map((text) => `S3c${text}`);
/** Two tokens around a fixed piece: each value breaks the rule as the others do. */
const around = (piece: string) => fc.tuple(token, token).map(([a, b]) => `${a}${piece}${b}`);
/** Durations in milliseconds, a form that messages would write otherwise ("1m30s"). */
const millis = (min: number, max: number) => fc.integer({ min, max }).map((ms) => `${ms}ms`);
/** An empty status range, "399-300". */
const emptyRange = fc.integer({ min: 101, max: 599 }).chain((from) =>
  fc.integer({ min: 100, max: from - 1 }).map((to) => `${from}-${to}`)
);

const directory = await Deno.makeTempDir();
globalThis.addEventListener("unload", () => Deno.removeSync(directory, { recursive: true }));
const CA = Deno.readTextFileSync(new URL("../testdata/tls/ca.pem", import.meta.url));
const KEY = Deno.readTextFileSync(new URL("../testdata/tls/localhost.key", import.meta.url));
await Deno.writeTextFile(`${directory}/bundle.pem`, `${KEY}${CA}`);
await Deno.writeTextFile(`${directory}/big.pem`, CA.repeat(100));
await Deno.writeTextFile(`${directory}/not-pem.txt`, "hello\n");

/** A key that takes a reference, a site that uses one there, and values that break its rules. */
interface Row {
  /** What the row is about. */
  readonly key: string;
  /** The site's keys, besides `id: a` and `url: https://a.example/`. */
  readonly site?: Record<string, unknown>;
  readonly defaults?: Record<string, unknown>;
  readonly channels?: Record<string, unknown>;
  /** Values the reference stands for, each breaking a rule of the key the same way. */
  readonly secret: fc.Arbitrary<string>;
  /** Whether the sites topic can carry it (channels, files and a second site it cannot). */
  readonly onTopic?: false;
  /** Whether the message quotes the reference (channels' values are never quoted at all). */
  readonly quoted?: false;
  /** A second site, for rules across sites. */
  readonly second?: Record<string, unknown>;
}

const ROWS: readonly Row[] = [
  { key: "id", site: { id: REF }, secret: around("!") },
  { key: "id, twice", site: { id: REF }, second: { id: REF }, secret: token, onTopic: false },
  { key: "name", site: { name: REF }, secret: around("\u001b[2J") },
  { key: "name, a bidirectional override", site: { name: REF }, secret: around("\u202e") },
  { key: "url, all of it", site: { url: REF }, secret: token },
  { key: "url, its host", site: { url: `https://${REF}/` }, secret: around(" ") },
  ...["(", ")", "[", "**", "\\q", "x{2,1}"].map((piece) => ({
    key: `pattern, with ${piece}`,
    site: { pattern: REF },
    secret: around(piece),
  })),
  { key: "pattern, too complex", site: { pattern: REF }, secret: around("[a-z]{0,999}") },
  { key: "pattern.regex", site: { pattern: { regex: REF } }, secret: around("(") },
  { key: "pattern.flags", site: { pattern: { regex: "ok", flags: REF } }, secret: token },
  { key: "method", site: { method: REF }, secret: token },
  {
    key: "headers, a line break",
    site: { headers: { Authorization: `Bearer ${REF}` } },
    secret: around("\r\nX-Evil: 1"),
  },
  { key: "headers, above Latin-1", site: { headers: { "X-Key": REF } }, secret: around("€") },
  { key: "defaults.headers", defaults: { headers: { "X-Key": REF } }, secret: around("\u0000") },
  {
    key: "method, with a body",
    site: { method: REF, body: "{}" },
    secret: fc.constantFrom("GET", "HEAD"),
  },
  { key: "interval", site: { interval: REF }, secret: token },
  { key: "interval, too short", site: { interval: REF }, secret: millis(1, 4_999) },
  { key: "timeout, over the interval", site: { timeout: REF }, secret: millis(60_001, 86_400_000) },
  {
    key: "interval, under the timeout",
    site: { interval: REF, timeout: "30s" },
    secret: millis(5_000, 29_999),
  },
  { key: "expect_status", site: { expect_status: [REF] }, secret: token },
  { key: "expect_status, an empty range", site: { expect_status: [REF] }, secret: emptyRange },
  { key: "follow_redirects", site: { follow_redirects: REF }, secret: token },
  { key: "tls_verify", site: { tls_verify: REF }, secret: token },
  { key: "cert_min_days", site: { cert_min_days: REF }, secret: token },
  { key: "max_body_bytes", site: { max_body_bytes: REF }, secret: token },
  {
    key: "ca_file, missing",
    site: { ca_file: REF },
    secret: token.map((name) => `${directory}/${name}/ca.pem`),
    onTopic: false,
  },
  {
    key: "ca_file, a directory",
    site: { ca_file: REF },
    secret: fc.constant(directory),
    onTopic: false,
  },
  {
    key: "ca_file, a key bundle",
    site: { ca_file: REF },
    secret: fc.constant(`${directory}/bundle.pem`),
    onTopic: false,
  },
  {
    key: "ca_file, too big",
    site: { ca_file: REF },
    secret: fc.constant(`${directory}/big.pem`),
    onTopic: false,
  },
  {
    key: "ca_file, not PEM",
    site: { ca_file: REF },
    secret: fc.constant(`${directory}/not-pem.txt`),
    onTopic: false,
  },
  { key: "alert.regions", site: { alert: { regions: REF } }, secret: token },
  { key: "alert.failure_threshold", site: { alert: { failure_threshold: REF } }, secret: token },
  {
    key: "alert.response_time, over the timeout",
    site: { alert: { response_time: REF } },
    secret: millis(10_000, 86_400_000),
  },
  { key: "alert.channels", site: { alert: { channels: [REF] } }, secret: around("!") },
  {
    key: "alert.channels, no such channel",
    site: { alert: { channels: [REF] } },
    secret: token,
    onTopic: false,
  },
  { key: "defaults.interval", defaults: { interval: REF }, secret: token },
  {
    key: "defaults.timeout, over the interval",
    defaults: { timeout: REF },
    secret: millis(60_001, 86_400_000),
  },
  {
    key: "defaults.method, with a body",
    defaults: { method: REF },
    site: { body: "{}" },
    secret: fc.constantFrom("GET", "HEAD"),
  },
  {
    key: "defaults.expect_status, an empty range",
    defaults: { expect_status: [REF] },
    secret: emptyRange,
  },
  {
    key: "defaults.ca_file, missing",
    defaults: { ca_file: REF },
    secret: token.map((name) => `/${name}/ca.pem`),
    onTopic: false,
  },
  {
    key: "defaults.alert.response_time, over the timeout",
    defaults: { alert: { response_time: REF } },
    secret: millis(10_000, 86_400_000),
  },
  {
    key: "channels.team.url",
    channels: { team: { type: "slack", url: REF } },
    secret: token,
    onTopic: false,
    quoted: false,
  },
  {
    key: "channels.hook.secret",
    channels: { hook: { type: "webhook", url: "https://hooks.example/", secret: REF } },
    secret: token,
    onTopic: false,
    quoted: false,
  },
];

/** The problems of a sites file with the row's keys, as `monitor alert --config` reports them. */
function fileProblems(row: Row, secret: string): string[] {
  const site = { id: "a", url: "https://a.example/", ...row.site };
  // JSON is YAML.
  const text = JSON.stringify({
    ...(row.defaults === undefined ? {} : { defaults: row.defaults }),
    sites: row.second === undefined ? [site] : [site, { ...site, ...row.second }],
    ...(row.channels === undefined ? {} : { channels: row.channels }),
  });
  try {
    parseAlertConfig(text, "sites.yaml", { SITE_SECRET: secret });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map(formatProblem);
  }
  return assert.fail(`accepted with SITE_SECRET=${JSON.stringify(secret)}`);
}

/** The problems a checker of the sites topic finds in the row's site, defaults merged in. */
function topicProblems(row: Row, secret: string): readonly string[] {
  const entry = { ...row.defaults, id: "a", url: "https://a.example/", ...row.site };
  const resolved = resolveSite(entry, null, { env: { SITE_SECRET: secret } });
  assert.ok("problems" in resolved, `accepted with SITE_SECRET=${JSON.stringify(secret)}`);
  return resolved.problems;
}

for (const row of ROWS) {
  Deno.test(`a message about ${row.key} from a \${NAME} reference quotes the reference, never the value`, () => {
    const sides = [fileProblems, ...(row.onTopic === false ? [] : [topicProblems])];
    for (const problemsOf of sides) {
      fc.assert(
        fc.property(row.secret, row.secret, (one, other) => {
          const messages = problemsOf(row, one);
          assert.deepEqual(problemsOf(row, other), messages, "the messages depend on the value");
          const text = messages.join("\n");
          assert.ok(!text.includes(one), text);
          if (row.quoted !== false) assert.ok(text.includes(REF), text);
        }),
        { numRuns: 25 },
      );
    }
  });
}

Deno.test("a checker's config result for a pattern from a reference says what is wrong, not the value", () => {
  const logged: string[] = [];
  const log = { warn: () => {}, error: (...args: unknown[]) => logged.push(JSON.stringify(args)) };
  const sitesOf = checkerSites({ env: { SITE_PW: "Pa(ss" }, log });
  const value = { version: 1, site: { id: "a", url: "https://a.example/", pattern: "${SITE_PW}" } };
  const [site] = sitesOf(new Map([["a", new TextEncoder().encode(JSON.stringify(value))]]));
  assert.ok(site !== undefined && isMisconfigured(site));
  const result = configErrorResult(site);
  assert.equal(
    result.error?.message,
    'This checker cannot check the site as configured: pattern: is not a valid RE2 regular expression: missing closing ): current value is "${SITE_PW}"',
  );
  assert.ok(!logged.join("").includes("Pa(ss"), logged.join(""));
});

Deno.test("a sites file's message about a pattern from a reference says what is wrong, not the value", () => {
  const text = 'sites:\n  - id: a\n    url: https://a.example/\n    pattern: "${SITE_PW}"\n';
  assert.throws(
    () => parseAlertConfig(text, "sites.yaml", { SITE_PW: "Pa(ss" }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map(formatProblem), [
        'sites.yaml:4: sites[0].pattern is not a valid RE2 regular expression: missing closing ): current value is "${SITE_PW}"',
      ]);
      return true;
    },
  );
});

Deno.test("a sites file's header with a line break from a reference is refused at its line, naming the reference", () => {
  const text =
    'sites:\n  - id: a\n    url: https://a.example/\n    headers:\n      Authorization: "Bearer ${SITE_TOKEN}"\n';
  assert.throws(
    () => parseSites(text, "sites.yaml", { SITE_TOKEN: "abc\r\nX-Evil: 1" }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map(formatProblem), [
        'sites.yaml:5: sites[0].headers.Authorization must not contain control characters: current value is "Bearer ${SITE_TOKEN}"',
      ]);
      return true;
    },
  );
});

Deno.test("a result records a pattern from a reference as written, in its pattern and its message", async () => {
  await using target = startHttpTarget();
  const env = { SITE_WORD: "s3cret-word" };
  const text =
    `sites:\n  - id: a\n    url: ${target.url("/text/hello")}\n    pattern: "(?i)\${SITE_WORD}"\n` +
    `  - id: b\n    url: ${
      target.url("/text/hello")
    }\n    pattern: { regex: "\${SITE_WORD}", flags: i }\n`;
  const fromFile = parseAlertConfig(text, "sites.yaml", env).sites;
  const entry = { id: "a", url: target.url("/text/hello"), pattern: "(?i)${SITE_WORD}" };
  const fromTopic = resolveSite(entry, null, { env });
  assert.ok("site" in fromTopic);
  for (const site of [...fromFile, fromTopic.site]) {
    assert.equal(site.pattern?.source, "(?i)${SITE_WORD}");
    assert.ok(site.pattern?.regex.test("the S3CRET-WORD is here"));
    const result = await checkSite(site);
    assert.equal(result.pattern, "(?i)${SITE_WORD}");
    assert.equal(result.error?.kind, "pattern_mismatch");
    assert.ok(!JSON.stringify(result).includes("s3cret"), JSON.stringify(result));
  }
});
