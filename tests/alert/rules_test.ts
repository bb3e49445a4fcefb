import assert from "node:assert/strict";
import type { z } from "zod";
import {
  channelsSchema,
  PAGERDUTY_EVENTS_URL,
  resolveChannel,
} from "../../src/alert/channels/config.ts";
import { alertOptionsSchema, resolveAlertRule } from "../../src/alert/rules.ts";
import type { KeyPath } from "../../src/config/yaml_source.ts";

/** Each problem as `path message`. */
function collector(): { problems: string[]; report: (path: KeyPath, message: string) => void } {
  const problems: string[] = [];
  return { problems, report: (path, message) => problems.push(`${path.join(".")} ${message}`) };
}

/** Each issue of a failed parse as `path: message` (a bad key's message as the sites file shows it). */
function issues(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  assert.equal(result.success, false, "parsed");
  return result.error!.issues.map((issue) =>
    `${issue.path.join(".")}: ${
      issue.code === "invalid_key" ? issue.issues[0]?.message : issue.message
    }`
  );
}

const SITE = { intervalMs: 30_000, timeoutMs: 10_000, channelNames: new Set(["ops", "pager"]) };

Deno.test("an alert block takes every documented key", () => {
  const block = {
    failure_threshold: 2,
    success_threshold: 3,
    regions: "majority",
    response_time: "1.5s",
    stale_after: 4,
    channels: ["ops"],
  };
  assert.deepEqual(alertOptionsSchema.parse(block), block);
  assert.deepEqual(alertOptionsSchema.parse({ regions: 2 }), { regions: 2 });
});

Deno.test("an alert block refuses unknown keys and values out of bounds, saying why", () => {
  assert.deepEqual(issues(alertOptionsSchema, { threshold: 3 }), [
    ': Unrecognized key: "threshold"',
  ]);
  assert.deepEqual(issues(alertOptionsSchema, { failure_threshold: 0 }), [
    "failure_threshold: must be at least 1",
  ]);
  assert.deepEqual(issues(alertOptionsSchema, { regions: "most" }), [
    'regions: must be a number of regions from 1 to 100, or "majority"',
  ]);
  assert.deepEqual(issues(alertOptionsSchema, { stale_after: 1 }), [
    "stale_after: must be at least 2: a result may arrive up to an interval late",
  ]);
  assert.deepEqual(issues(alertOptionsSchema, { response_time: "2 seconds" }), [
    'response_time: must be a duration such as "2s" or "500ms"',
  ]);
});

Deno.test("resolveAlertRule() applies the built-in defaults", () => {
  const { problems, report } = collector();
  const rule = resolveAlertRule({ siteAt: ["sites", 0, "alert"] }, SITE, report);
  assert.deepEqual(rule, {
    failureThreshold: 3,
    successThreshold: 2,
    regions: 1,
    responseTimeMs: null,
    staleAfterMs: 90_000, // three 30 s intervals
    channels: [],
  });
  assert.deepEqual(problems, []);
});

Deno.test("resolveAlertRule() takes each key from the site, then from defaults", () => {
  const { problems, report } = collector();
  const rule = resolveAlertRule(
    {
      defaults: { failure_threshold: 5, response_time: "2s", channels: ["ops"] },
      site: { failure_threshold: 2, channels: ["pager"] },
      siteAt: ["sites", 1, "alert"],
    },
    SITE,
    report,
  );
  assert.equal(rule.failureThreshold, 2);
  assert.equal(rule.responseTimeMs, 2_000);
  assert.deepEqual(rule.channels, ["pager"], "a site's list replaces the default one");
  assert.deepEqual(problems, []);
});

Deno.test("resolveAlertRule() reports an unknown channel where it is written", () => {
  const { problems, report } = collector();
  resolveAlertRule(
    { defaults: { channels: ["ops", "mail"] }, siteAt: ["sites", 0, "alert"] },
    SITE,
    report,
  );
  resolveAlertRule({ site: { channels: ["sms"] }, siteAt: ["sites", 1, "alert"] }, SITE, report);
  assert.deepEqual(problems, [
    'defaults.alert.channels.1 names no channel: "mail" is not in the channels map',
    'sites.1.alert.channels.0 names no channel: "sms" is not in the channels map',
  ]);
});

Deno.test("resolveAlertRule() reports a response time no check could exceed", () => {
  const { problems, report } = collector();
  resolveAlertRule({ site: { response_time: "10s" }, siteAt: ["sites", 0, "alert"] }, SITE, report);
  assert.deepEqual(problems, [
    "sites.0.alert.response_time 10s is not shorter than the timeout 10s: a check that slow fails instead",
  ]);
});

Deno.test("the channels map takes each type of channel", () => {
  const channels = channelsSchema.parse({
    hook: { type: "webhook", url: "https://hooks.example.com/x", secret: "0123456789abcdef" },
    team: { type: "slack", url: "https://hooks.slack.com/services/T/B/x", timeout: "5s" },
    oncall: { type: "pagerduty", routing_key: "R0UT1NG" },
    mail: { type: "email", host: "smtp.example.com", from: "m@example.com", to: ["o@example.com"] },
  });
  assert.deepEqual(Object.keys(channels), ["hook", "team", "oncall", "mail"]);
});

Deno.test("the channels map refuses a short secret, an unknown type and a bad name", () => {
  assert.deepEqual(
    issues(channelsSchema, {
      hook: { type: "webhook", url: "https://h.example/", secret: "short" },
    }),
    ["hook.secret: must be at least 16 characters (openssl rand -hex 32 makes a good one)"],
  );
  assert.deepEqual(issues(channelsSchema, { x: { type: "sms" } }), [
    "x.type: must have a type: one of webhook, slack, pagerduty, email",
  ]);
  assert.deepEqual(
    issues(channelsSchema, { "no spaces": { type: "slack", url: "https://s.example/" } }),
    [
      'no spaces: must be 1 to 64 letters, digits, ".", "_" or "-"',
    ],
  );
  assert.deepEqual(
    issues(channelsSchema, { hook: { type: "slack", url: "ftp://s.example/" } }),
    ["hook.url: must be an absolute http(s) URL"],
  );
});

Deno.test("resolveChannel() applies defaults: PagerDuty's endpoint, SMTP ports, a timeout", () => {
  const context = { at: ["channels", "x"], readCaFile: () => null, report: () => {} };
  const pager = resolveChannel("oncall", { type: "pagerduty", routing_key: "R0UT1NG" }, context);
  assert.deepEqual(pager, {
    type: "pagerduty",
    name: "oncall",
    timeoutMs: 10_000,
    routingKey: "R0UT1NG",
    url: PAGERDUTY_EVENTS_URL,
  });
  const mail = {
    type: "email",
    host: "smtp.example.com",
    from: "m@e.test",
    to: "o@e.test",
  } as const;
  const starttls = resolveChannel("mail", mail, context);
  assert.equal(starttls.type === "email" && starttls.port, 587);
  assert.deepEqual(starttls.type === "email" && starttls.to, ["o@e.test"]);
  const tls = resolveChannel("mail", { ...mail, secure: true, timeout: "30s" }, context);
  assert.equal(tls.type === "email" && tls.port, 465);
  assert.equal(tls.timeoutMs, 30_000);
});

Deno.test("resolveChannel() reads the CA file and reports a user without a password", () => {
  const { problems, report } = collector();
  const read: string[] = [];
  const mail = resolveChannel("mail", {
    type: "email",
    host: "smtp.example.com",
    from: "m@e.test",
    to: "o@e.test",
    user: "monitor",
    ca_file: "ca.pem",
  }, {
    at: ["channels", "mail"],
    readCaFile: (path, at) => {
      read.push(`${path} ${at.join(".")}`);
      return "PEM";
    },
    report,
  });
  assert.deepEqual(read, ["ca.pem channels.mail.ca_file"]);
  assert.equal(mail.type === "email" && mail.caCert, "PEM");
  assert.equal(mail.type === "email" && mail.auth, null);
  assert.deepEqual(problems, [
    "channels.mail.user needs password too: SMTP authentication takes both",
  ]);
});
