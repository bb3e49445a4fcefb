import assert from "node:assert/strict";
import { ALERT_DEFAULTS } from "../../src/alert/rules.ts";
import { ConfigError, formatProblem } from "../../src/errors.ts";
import { DEFAULTS } from "../../src/config/sites.ts";
import { loadSites, parseSites } from "../../src/sites/file.ts";

const testdata = (name: string) => new URL(`../testdata/${name}`, import.meta.url).pathname;

/** The problems of an invalid file, formatted as the user sees them, with the path made short. */
async function problemsOf(name: string): Promise<string[]> {
  const error = await loadSites(testdata(name), {}).then(
    () => assert.fail(`${name} was accepted`),
    (error: unknown) => error,
  );
  assert.ok(error instanceof ConfigError, String(error));
  return error.problems.map((p) => formatProblem({ ...p, file: name }));
}

Deno.test("loadSites() reads a valid file, applying defaults and per-site values", async () => {
  const sites = await loadSites(testdata("valid.yaml"), { API_TOKEN: "t0ken" });
  // Without alert keys, every site has the built-in rule, stale after three intervals.
  const alert = (intervalMs: number) => ({
    failureThreshold: ALERT_DEFAULTS.failureThreshold,
    successThreshold: ALERT_DEFAULTS.successThreshold,
    regions: ALERT_DEFAULTS.regions,
    responseTimeMs: null,
    staleAfterMs: ALERT_DEFAULTS.staleAfterIntervals * intervalMs,
    channels: [],
  });
  assert.deepEqual(
    sites.map(({ pattern, ...site }) => ({ ...site, pattern: pattern?.source ?? null })),
    [
      {
        id: "example",
        name: "Example Domain",
        url: "https://example.com/",
        urlAsWritten: "https://example.com/",
        method: "GET",
        headers: { "user-agent": "website-monitor-test", accept: "text/html" },
        forwardHeadersOnRedirect: [],
        body: null,
        intervalMs: 120_000,
        timeoutMs: 5_000,
        expectStatus: [[200, 200], [300, 399]],
        pattern: "(?i)example domain",
        maxRedirects: DEFAULTS.maxRedirects,
        maxBodyBytes: DEFAULTS.maxBodyBytes,
        tlsVerify: true,
        caCert: null,
        certMinDays: null,
        alert: alert(120_000),
      },
      {
        id: "api",
        name: "api",
        url: "http://127.0.0.1:8080/health",
        urlAsWritten: "http://127.0.0.1:8080/health",
        method: "POST",
        headers: {
          "user-agent": "website-monitor-test",
          accept: "application/json",
          authorization: "Bearer t0ken",
        },
        forwardHeadersOnRedirect: [],
        body: '{"ping": true}',
        intervalMs: 10_000,
        timeoutMs: 1_500,
        expectStatus: [[204, 204]],
        pattern: "(?im)ok$",
        maxRedirects: 3,
        maxBodyBytes: 4096,
        tlsVerify: false,
        caCert: null,
        certMinDays: 14,
        alert: alert(10_000),
      },
      {
        id: "no-redirects",
        name: "no-redirects",
        url: "https://example.org/old-path",
        urlAsWritten: "https://example.org/old-path",
        method: "GET",
        headers: { "user-agent": "website-monitor-test", accept: "text/html" },
        forwardHeadersOnRedirect: [],
        body: null,
        intervalMs: 120_000,
        timeoutMs: 5_000,
        expectStatus: [[200, 200], [300, 399]],
        pattern: null,
        maxRedirects: 0,
        maxBodyBytes: DEFAULTS.maxBodyBytes,
        tlsVerify: true,
        caCert: null,
        certMinDays: null,
        alert: alert(120_000),
      },
    ],
  );
  assert.equal(sites[0]!.pattern!.regex.test("This is the EXAMPLE DOMAIN page"), true);
  assert.equal(sites[1]!.pattern!.regex.test("STATUS: OK\nmore"), true);
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
  "invalid-request.yaml": [
    'invalid-request.yaml:4: sites[0].method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS: current value is "FETCH"',
    "invalid-request.yaml:6: sites[0].headers.bad header must be a valid HTTP header name",
    "invalid-request.yaml:8: sites[1].url refers to ${SITE_BASE_PATH}, which is not set in the environment",
    // Rules across keys too, on the keys without a problem of their own: every problem at once.
    "invalid-request.yaml:9: sites[1].body cannot be sent with method GET: set method to POST or another",
    'invalid-request.yaml:10: sites[1].expect_status[1] is an empty range: current value is "399-300"',
    "invalid-request.yaml:11: sites[1].follow_redirects must be at most 30: current value is 100",
  ],
  "invalid-ca-file.yaml": [
    'invalid-ca-file.yaml:2: defaults.ca_file "no-such-ca.pem" does not exist',
    'invalid-ca-file.yaml:6: sites[0].ca_file "valid.yaml" is not a PEM certificate file',
  ],
  "invalid-control-characters.yaml": [
    'invalid-control-characters.yaml:3: sites[0].name must not contain control characters: current value is "Shop \\u001b[31mred"',
    'invalid-control-characters.yaml:4: sites[0].url must not contain control characters: current value is "https://shop.example/\\u0000"',
    'invalid-control-characters.yaml:5: sites[0].pattern must not contain a NUL character: write "\\x00" to match one: current value is "ok\\u0000"',
  ],
  "invalid-alert-rule.yaml": [
    "invalid-alert-rule.yaml:3: defaults.alert.failure_threshold must be at least 1: current value is 0",
    'invalid-alert-rule.yaml:8: sites[0].alert.success_threshold must be a whole number: current value is "many"',
    'invalid-alert-rule.yaml:9: sites[0].alert.regions must be a number of regions from 1 to 100, or "majority": current value is "most"',
    "invalid-alert-rule.yaml:10: sites[0].alert.flap is not a known key: remove it or check its spelling",
    "invalid-alert-rule.yaml:11: sites[0].alert.stale_after must be at least 2: a result may arrive up to an interval late: current value is 1",
    'invalid-alert-rule.yaml:14: sites[1].alert.channels must be a list of channel names: current value is "team"',
  ],
  // The channels' references are the alerter's to resolve (see sites_alert_test.ts).
  "invalid-alert-channels.yaml": [
    'invalid-alert-channels.yaml:6: defaults.alert.channels[1] names no channel: "pager" is not in the channels map',
    'invalid-alert-channels.yaml:11: sites[0].alert.channels[1] names no channel: "sms" is not in the channels map',
  ],
  "invalid-many.yaml": [
    'invalid-many.yaml:3: sites[0].url must be an absolute http(s) URL: current value is "ftp://a.example/"',
    "invalid-many.yaml:4: sites[0].colour is not a known key: remove it or check its spelling",
    "invalid-many.yaml:5: sites[1].id is required",
    'invalid-many.yaml:6: sites[1].interval must be a duration such as "30s", "5m" or "1h": current value is "soon"',
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

Deno.test("loadSites() says when the path is a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const error = await loadSites(dir, {}).then(() => assert.fail("accepted"), (e: unknown) => e);
    assert.ok(error instanceof ConfigError, String(error));
    assert.deepEqual(error.problems.map((p) => p.message), ["cannot be read: it is a directory"]);
  } finally {
    await Deno.remove(dir);
  }
});

/** The problems `parseSites` finds in `text`, as `line: path message`. */
function inlineProblems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseSites(text, "inline.yaml", env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map((p) => `${p.line}: ${p.path} ${p.message}`);
  }
  return assert.fail("the text was accepted");
}

Deno.test("parseSites() checks rules across fields: a body with GET, an empty range", () => {
  const text = `sites:
  - id: b
    url: https://b.example/
    body: "{}"
    expect_status: [200, "399-300"]
`;
  assert.deepEqual(inlineProblems(text), [
    "4: sites[0].body cannot be sent with method GET: set method to POST or another",
    '5: sites[0].expect_status[1] is an empty range: current value is "399-300"',
  ]);
});

Deno.test("parseSites() never shows an interpolated secret in a message", () => {
  const text = "sites:\n  - id: a\n    url: ${SECRET_URL}\n";
  assert.deepEqual(inlineProblems(text, { SECRET_URL: "not-a-url-s3cret" }), [
    '3: sites[0].url must be an absolute http(s) URL: current value is "${SECRET_URL}"',
  ]);
});

Deno.test("parseSites() reads $${ as a literal ${", () => {
  const text = "sites:\n  - id: a\n    url: https://a.example/\n    pattern: 'cost: $${price}'\n";
  const [site] = parseSites(text, "inline.yaml", {});
  assert.equal(site?.pattern?.source, "cost: ${price}");
});

Deno.test("the example sites file that deno task start uses is valid", async () => {
  const sites = await loadSites(new URL("../../sites.example.yaml", import.meta.url).pathname, {});
  assert.ok(sites.length > 0);
});
