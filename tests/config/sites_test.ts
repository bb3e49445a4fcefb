import assert from "node:assert/strict";
import { ConfigError, formatProblem } from "../../src/errors.ts";
import { DEFAULTS, loadSites } from "../../src/config/sites.ts";

const testdata = (name: string) => new URL(`../testdata/${name}`, import.meta.url).pathname;

/** The problems of an invalid file, formatted as the user sees them, with the path made short. */
async function problemsOf(name: string): Promise<string[]> {
  const error = await loadSites(testdata(name)).then(
    () => assert.fail(`${name} was accepted`),
    (error: unknown) => error,
  );
  assert.ok(error instanceof ConfigError, String(error));
  return error.problems.map((p) => formatProblem({ ...p, file: name }));
}

Deno.test("loadSites() reads a valid file, applying defaults and per-site values", async () => {
  const sites = await loadSites(testdata("valid.yaml"));
  assert.deepEqual(
    sites.map(({ pattern, ...site }) => ({ ...site, pattern: pattern?.source ?? null })),
    [
      {
        id: "example",
        name: "Example Domain",
        url: "https://example.com/",
        intervalMs: 120_000,
        timeoutMs: 5_000,
        pattern: "(?i)example domain",
        maxBodyBytes: DEFAULTS.maxBodyBytes,
        maxRedirects: DEFAULTS.maxRedirects,
      },
      {
        id: "fast",
        name: "fast",
        url: "http://127.0.0.1:8080/health",
        intervalMs: 10_000,
        timeoutMs: 1_500,
        pattern: null,
        maxBodyBytes: DEFAULTS.maxBodyBytes,
        maxRedirects: DEFAULTS.maxRedirects,
      },
    ],
  );
  assert.equal(sites[0]!.pattern!.regex.test("This is the EXAMPLE DOMAIN page"), true);
});

const INVALID: Record<string, string[]> = {
  "invalid-url.yaml": [
    'invalid-url.yaml:3: sites[0].url must be an absolute http(s) URL: current value is "example.com"',
  ],
  "invalid-regex.yaml": [
    "invalid-regex.yaml:4: sites[0].pattern is not a valid RE2 regular expression at position 1: missing closing ): `ok (unclosed`",
  ],
  "invalid-unknown-key.yaml": [
    "invalid-unknown-key.yaml:4: sites[0].intervall is not a known key: remove it or check its spelling",
  ],
  "invalid-duplicate-id.yaml": [
    'invalid-duplicate-id.yaml:6: sites[2].id "shop" is already the id of sites[0]: ids must be unique',
  ],
  "invalid-interval.yaml": [
    'invalid-interval.yaml:2: defaults.interval must be at least 5s: current value is "1s"',
  ],
  "invalid-timeout-over-interval.yaml": [
    "invalid-timeout-over-interval.yaml:5: sites[0].timeout timeout 30s is longer than the interval 10s: a check must end before the next one is due",
  ],
  "invalid-yaml.yaml": [
    "invalid-yaml.yaml:4: is not valid YAML: Sequence item without - indicator",
  ],
  "invalid-many.yaml": [
    'invalid-many.yaml:3: sites[0].url must be an absolute http(s) URL: current value is "ftp://a.example/"',
    "invalid-many.yaml:4: sites[0].colour is not a known key: remove it or check its spelling",
    "invalid-many.yaml:5: sites[1].id is required",
    'invalid-many.yaml:6: sites[1].interval must be a duration such as "30s", "5m" or "500ms": current value is "soon"',
  ],
};

for (const [file, expected] of Object.entries(INVALID)) {
  Deno.test(`loadSites() rejects ${file} with one message per problem`, async () => {
    assert.deepEqual(await problemsOf(file), expected);
  });
}

Deno.test("loadSites() names a missing file", async () => {
  assert.deepEqual(await problemsOf("no-such-file.yaml"), [
    "no-such-file.yaml: cannot be read: does not exist",
  ]);
});
