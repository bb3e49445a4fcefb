import assert from "node:assert/strict";
import { PAGERDUTY_EVENTS_URL } from "../../src/alert/channels/config.ts";
import { ALERT_DEFAULTS } from "../../src/alert/rules.ts";
import { resolveSite } from "../../src/sites/checker_sites.ts";
import {
  loadAlertConfig,
  parseAlertConfig,
  parseSites,
  parseSitesAsWritten,
} from "../../src/sites/file.ts";
import { ConfigError, formatProblem } from "../../src/errors.ts";

const testdata = (name: string) => new URL(`../testdata/${name}`, import.meta.url).pathname;
const CA_PEM = Deno.readTextFileSync(testdata("tls/ca.pem"));

/** The problems `parse` throws, as the user sees them. */
function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map(formatProblem);
  }
  return assert.fail("the text was accepted");
}

const CHANNELS = `channels:
  hook:
    type: webhook
    url: https://hooks.example.com/monitor?token=\${HOOK_TOKEN}
    secret: \${WEBHOOK_SECRET}
    timeout: 5s
  team: { type: slack, url: "\${SLACK_WEBHOOK_URL}" }
  oncall: { type: pagerduty, routing_key: "\${PAGERDUTY_ROUTING_KEY}" }
  mail:
    type: email
    host: smtp.example.com
    secure: true
    user: monitor
    password: \${SMTP_PASSWORD}
    from: Monitor <monitor@example.com>
    to: [ops@example.com, dev@example.com]
    ca_file: tls/ca.pem
`;

const ENV = {
  HOOK_TOKEN: "t0k",
  WEBHOOK_SECRET: "a-webhook-secret-of-32-characters",
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B0/x",
  PAGERDUTY_ROUTING_KEY: "R0UT1NG",
  SMTP_PASSWORD: "smtp-pa55",
};

const VALID = `${CHANNELS}defaults:
  interval: 30s
  alert:
    failure_threshold: 5
    response_time: 2s
    channels: [team]
sites:
  - id: shop
    url: https://shop.example/
    alert:
      failure_threshold: 2
      regions: majority
      stale_after: 4
      channels: [hook, oncall, mail]
  - id: blog
    url: https://blog.example/
    interval: 1m
`;

Deno.test("parseAlertConfig() merges each site's alert keys over the defaults' and resolves every type of channel", () => {
  const { sites, channels } = parseAlertConfig(VALID, testdata("sites.yaml"), ENV);
  assert.deepEqual(sites.map((site) => [site.id, site.alert]), [
    ["shop", {
      failureThreshold: 2,
      successThreshold: ALERT_DEFAULTS.successThreshold,
      regions: "majority",
      responseTimeMs: 2_000,
      staleAfterMs: 120_000,
      channels: ["hook", "oncall", "mail"],
    }],
    ["blog", {
      failureThreshold: 5,
      successThreshold: ALERT_DEFAULTS.successThreshold,
      regions: 1,
      responseTimeMs: 2_000,
      staleAfterMs: 180_000,
      channels: ["team"],
    }],
  ]);
  assert.deepEqual([...channels.entries()], [
    ["hook", {
      type: "webhook",
      name: "hook",
      timeoutMs: 5_000,
      url: "https://hooks.example.com/monitor?token=t0k",
      secret: "a-webhook-secret-of-32-characters",
    }],
    ["team", {
      type: "slack",
      name: "team",
      timeoutMs: 10_000,
      url: "https://hooks.slack.com/services/T0/B0/x",
    }],
    ["oncall", {
      type: "pagerduty",
      name: "oncall",
      timeoutMs: 10_000,
      routingKey: "R0UT1NG",
      url: PAGERDUTY_EVENTS_URL,
    }],
    ["mail", {
      type: "email",
      name: "mail",
      timeoutMs: 10_000,
      host: "smtp.example.com",
      port: 465,
      secure: true,
      auth: { user: "monitor", password: "smtp-pa55" },
      from: "Monitor <monitor@example.com>",
      to: ["ops@example.com", "dev@example.com"],
      caCert: CA_PEM,
    }],
  ]);
});

Deno.test("loadAlertConfig() reads a file whose sites have no alert keys: the built-in rule, no channels", async () => {
  const { sites, channels } = await loadAlertConfig(testdata("valid.yaml"), { API_TOKEN: "t" });
  assert.equal(channels.size, 0);
  assert.deepEqual(sites[0]?.alert, {
    failureThreshold: ALERT_DEFAULTS.failureThreshold,
    successThreshold: ALERT_DEFAULTS.successThreshold,
    regions: ALERT_DEFAULTS.regions,
    responseTimeMs: null,
    staleAfterMs: ALERT_DEFAULTS.staleAfterIntervals * 120_000,
    channels: [],
  });
});

Deno.test("loadAlertConfig() reports unset variables of channels and channels that are not in the map", async () => {
  const name = "invalid-alert-channels.yaml";
  const error = await loadAlertConfig(testdata(name), {}).then(
    () => assert.fail("the file was accepted"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof ConfigError, String(error));
  assert.deepEqual(error.problems.map((p) => formatProblem({ ...p, file: name })), [
    `${name}:2: channels.team.url refers to \${SLACK_WEBHOOK_URL}, which is not set in the environment`,
    `${name}:3: channels.hook.secret refers to \${WEBHOOK_SECRET}, which is not set in the environment`,
    `${name}:4: channels.unused.routing_key refers to \${PAGERDUTY_ROUTING_KEY}, which is not set in the environment`,
    `${name}:6: defaults.alert.channels[1] names no channel: "pager" is not in the channels map`,
    `${name}:11: sites[0].alert.channels[1] names no channel: "sms" is not in the channels map`,
  ]);
});

Deno.test("parseSites() (produce --config) takes alert rules and channels without the channels' secrets or files", () => {
  const sites = parseSites(VALID.replace("tls/ca.pem", "no-such-ca.pem"), "sites.yaml", {});
  const channels = sites.map((site) => site.alert.channels);
  assert.deepEqual(channels, [["hook", "oncall", "mail"], ["team"]]);
});

Deno.test("a secret's value is never shown: an unset variable is named, a bad value is not quoted", () => {
  const text = `channels:
  hook: { type: webhook, url: "https://h.example/", secret: "\${WEBHOOK_SECRET}" }
  team: { type: slack, url: "\${SLACK_WEBHOOK_URL}" }
sites:
  - id: a
    url: https://a.example/
    alert: { channels: [hook, team] }
`;
  assert.deepEqual(problemsOf(() => parseAlertConfig(text, "sites.yaml", {})), [
    "sites.yaml:2: channels.hook.secret refers to ${WEBHOOK_SECRET}, which is not set in the environment",
    "sites.yaml:3: channels.team.url refers to ${SLACK_WEBHOOK_URL}, which is not set in the environment",
  ]);
  const env = { WEBHOOK_SECRET: "sh0rt-s3cret", SLACK_WEBHOOK_URL: "hooks.slack.com/s3cret" };
  const problems = problemsOf(() => parseAlertConfig(text, "sites.yaml", env));
  assert.deepEqual(problems, [
    "sites.yaml:2: channels.hook.secret must be at least 16 characters (openssl rand -hex 32 makes a good one)",
    "sites.yaml:3: channels.team.url must be an absolute http(s) URL",
  ]);
  assert.ok(!problems.join("\n").includes("s3cret"));
});

Deno.test("parseAlertConfig() reports a bad channel, each problem at its line and key path", () => {
  const text = `channels:
  "on call": { type: pagerduty, routing_key: R0UT1NG }
  sms: { type: sms, number: "+15550100" }
  team: { type: slack, url: "https://hooks.slack.com/services/T/B/x", colour: red }
  mail: { type: email, host: smtp.example.com, from: m@example.com, to: o@example.com, port: 0 }
sites:
  - id: a
    url: https://a.example/
`;
  assert.deepEqual(problemsOf(() => parseAlertConfig(text, "sites.yaml", {})), [
    'sites.yaml:2: channels.on call must be 1 to 64 letters, digits, ".", "_" or "-"',
    'sites.yaml:3: channels.sms.type must have a type: one of webhook, slack, pagerduty, email: current value is "sms"',
    "sites.yaml:4: channels.team.colour is not a known key: remove it or check its spelling",
    "sites.yaml:5: channels.mail.port must be a port number",
  ]);
});

Deno.test("parseAlertConfig() checks rules across keys: a response time within the timeout, SMTP user and password", () => {
  const text = `channels:
  mail: { type: email, host: smtp.example.com, from: m@example.com, to: o@example.com, user: monitor }
defaults:
  timeout: 5s
  alert: { response_time: 5s, channels: [mail] }
sites:
  - id: a
    url: https://a.example/
  - id: b
    url: https://b.example/
    alert: { response_time: 10s }
`;
  assert.deepEqual(problemsOf(() => parseAlertConfig(text, "sites.yaml", {})), [
    "sites.yaml:2: channels.mail.user needs password too: SMTP authentication takes both",
    "sites.yaml:5: defaults.alert.response_time 5s is not shorter than the timeout 5s: a check that slow fails instead",
    "sites.yaml:11: sites[1].alert.response_time 10s is not shorter than the timeout 5s: a check that slow fails instead",
  ]);
});

Deno.test("parseSitesAsWritten() (sites apply) takes channel values that are whole references", () => {
  const text = `channels:
  hook: { type: webhook, url: "\${WEBHOOK_URL}", secret: "\${WEBHOOK_SECRET}", timeout: "\${TIMEOUT}" }
  team: { type: slack, url: "\${SLACK_WEBHOOK_URL}" }
  oncall: { type: pagerduty, routing_key: "\${PAGERDUTY_ROUTING_KEY}" }
  mail:
    type: email
    host: \${SMTP_HOST}
    user: \${SMTP_USER}
    password: \${SMTP_PASSWORD}
    from: \${MAIL_FROM}
    to: ["\${MAIL_TO}", ops@example.com]
    ca_file: \${SMTP_CA_FILE}
sites:
  - id: a
    url: https://a.example/
    alert: { channels: [hook, team, oncall, mail] }
`;
  const { file, sites } = parseSitesAsWritten(text, "sites.yaml");
  assert.deepEqual(file.channels?.team, { type: "slack", url: "${SLACK_WEBHOOK_URL}" });
  assert.deepEqual(file.channels?.mail?.type === "email" && file.channels.mail.to, [
    "${MAIL_TO}",
    "ops@example.com",
  ]);
  assert.deepEqual(sites[0]?.alert.channels, ["hook", "team", "oncall", "mail"]);
});

Deno.test("parseSitesAsWritten() still checks channels' names, types, keys and values without references", () => {
  const text = `channels:
  team: { type: slack, url: "\${SLACK_WEBHOOK_URL}", colour: red }
  hook: { type: webhook, url: "ftp://h.example/", secret: "\${WEBHOOK_SECRET}" }
  mail: { type: email, host: h.example, from: m@example.com, to: o@example.com, port: "\${SMTP_PORT}" }
  page: { type: "\${TYPE}", routing_key: R0UT1NG }
sites:
  - id: a
    url: https://a.example/
`;
  assert.deepEqual(problemsOf(() => parseSitesAsWritten(text, "sites.yaml")), [
    "sites.yaml:2: channels.team.colour is not a known key: remove it or check its spelling",
    "sites.yaml:3: channels.hook.url must be an absolute http(s) URL",
    "sites.yaml:4: channels.mail.port must be a port number (a ${NAME} reference stands for text: write this value out)",
    'sites.yaml:5: channels.page.type must have a type: one of webhook, slack, pagerduty, email: current value is "${TYPE}" (a ${NAME} reference stands for text: write this value out)',
  ]);
});

Deno.test("a channels map written as one reference is to be written out, not read as a word", () => {
  const text = 'channels: "${CHANNELS}"\nsites:\n  - id: a\n    url: https://a.example/\n';
  for (
    const parse of [
      () => parseSites(text, "sites.yaml", {}),
      () => parseSitesAsWritten(text, "sites.yaml"),
    ]
  ) {
    const [problem, ...others] = problemsOf(parse);
    assert.deepEqual(others, []);
    assert.match(problem ?? "", /^sites\.yaml:1: channels .*"\$\{CHANNELS\}"/);
    assert.ok(
      problem?.endsWith("(a ${NAME} reference stands for text: write this value out)"),
      problem,
    );
  }
});

Deno.test("parseSitesAsWritten() reports a site's channel that the channels map lacks", () => {
  const text = `channels:
  team: { type: slack, url: "\${SLACK_WEBHOOK_URL}" }
sites:
  - id: a
    url: https://a.example/
    alert: { channels: [team, pager] }
`;
  assert.deepEqual(problemsOf(() => parseSitesAsWritten(text, "sites.yaml")), [
    'sites.yaml:6: sites[0].alert.channels[1] names no channel: "pager" is not in the channels map',
  ]);
});

Deno.test("resolveSite() gives a site of the sites topic its alert rule; the channels map is not there to check names against", () => {
  const entry = {
    id: "a",
    url: "https://a.example/",
    interval: "30s",
    alert: { failure_threshold: 2, channels: ["team"] },
  };
  const resolved = resolveSite(entry, null, { env: {} });
  assert.ok("site" in resolved, JSON.stringify(resolved));
  assert.equal(resolved.site.alert.failureThreshold, 2);
  assert.equal(resolved.site.alert.staleAfterMs, 90_000);
  assert.deepEqual(resolved.site.alert.channels, ["team"]);
  assert.deepEqual(resolveSite({ ...entry, alert: { regions: 0 } }, null, { env: {} }), {
    problems: [
      'alert.regions: must be a number of regions from 1 to 100, or "majority": current value is 0',
    ],
  });
});
