/**
 * A sites file's problems are reported all at once: the rules across keys (timeout and interval,
 * body and method, response time and timeout, the channels a site names) are checked on the keys
 * that have no problem of their own, and never on a default standing in for a key that has one.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/errors.ts";
import { parseAlertConfig, parseSitesAsWritten } from "../../src/sites/file.ts";

const FILE = `channels:
  team: { type: slack, url: "https://hooks.slack.com/services/T/B/x" }
  broken: { type: sms, to: "+100" }
defaults:
  interval: 1s
sites:
  - id: a
    url: example.com
    interval: 1m
    timeout: 90s
  - id: b
    url: https://b.example/
    colour: red
    interval: 1m
    alert: { response_time: 20s }
  - id: c
    url: https://c.example/
    interval: 1m
    pattern: "a("
    alert: { channels: [team, nope, broken] }
  - id: d
    url: https://d.example/
    timeout: 90s
  - id: e
    url: https://e.example/
    interval: 1m
    body: "{}"
    expect_status: [abc]
  - id: f
    url: https://f.example/
    interval: 1m
    method: FETCH
    body: "{}"
    alert: { response_time: 20s, regions: 0 }
`;

function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map((p) => `${p.line}: ${p.path} ${p.message}`);
  }
  return assert.fail("the file was accepted");
}

Deno.test("a file with problems of single keys and across keys reports every one of them, in one run", () => {
  assert.deepEqual(problemsOf(() => parseAlertConfig(FILE, "sites.yaml", {})), [
    '3: channels.broken.type must have a type: one of webhook, slack, pagerduty, email: current value is "sms"',
    '5: defaults.interval must be at least 5s: current value is "1s"',
    '8: sites[0].url must be an absolute http(s) URL: current value is "example.com"',
    "10: sites[0].timeout timeout 90s is longer than the interval 1m: a check must end before the next one is due",
    "13: sites[1].colour is not a known key: remove it or check its spelling",
    "15: sites[1].alert.response_time 20s is not shorter than the timeout 10s: a check that slow fails instead",
    "19: sites[2].pattern is not a valid RE2 regular expression at position 1: missing closing ): `a(`",
    '20: sites[2].alert.channels[1] names no channel: "nope" is not in the channels map',
    // d's interval is the defaults', which has a problem: how it compares with d's timeout is not
    // known. f's method and alert block have problems: its body and response time are not judged.
    "27: sites[4].body cannot be sent with method GET: set method to POST or another",
    '28: sites[4].expect_status[0] must be a status such as 200 or a range such as "200-299": current value is "abc"',
    '32: sites[5].method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS: current value is "FETCH"',
    '34: sites[5].alert.regions must be a number of regions from 1 to 100, or "majority": current value is 0',
  ]);
});

Deno.test("sites apply reports every problem of such a file at once too", () => {
  const problems = problemsOf(() => parseSitesAsWritten(FILE, "sites.yaml"));
  assert.ok(problems.includes(
    "10: sites[0].timeout timeout 90s is longer than the interval 1m: a check must end before the next one is due",
  ));
  assert.ok(problems.includes(
    '20: sites[2].alert.channels[1] names no channel: "nope" is not in the channels map',
  ));
  assert.equal(problems.length, 12);
});

Deno.test("a channels key that is no map keeps no rule across the sites' keys from being checked", () => {
  const text = `channels: 5
sites:
  - id: a
    url: https://a.example/
    timeout: 90s
    alert: { channels: [team] }
`;
  assert.deepEqual(problemsOf(() => parseAlertConfig(text, "sites.yaml", {})), [
    "1: channels Invalid input: expected record, received number: current value is 5",
    "5: sites[0].timeout timeout 90s is longer than the interval 1m: a check must end before the next one is due",
  ]);
});
