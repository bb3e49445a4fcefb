/**
 * `monitor alert` end to end (issue 15): results published on the real broker, incidents and the
 * outbox in the real PostgreSQL, notifications received by a local webhook (`Deno.serve`) and a
 * local SMTP server (`npm:smtp-server`). Receivers count notifications by idempotency key: a
 * notification delivered twice with one key is one notification, as a receiver would take it.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check/result.ts";
import { readSettings } from "../../src/config/settings.ts";
import { openIncidents } from "../../src/db/alerts.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { openTestProducer } from "../_helpers/kafka.ts";
import { SILENT } from "../../src/log.ts";
import { monitor, type MonitorProcess, spawnMonitor } from "../_helpers/cli.ts";
import { makeResult } from "../_helpers/results.ts";
import { testEnv, waitFor, withDatabase } from "../_helpers/services.ts";
import { header, PASSWORD, startSmtpServer, USER } from "../_helpers/smtp_receiver.ts";
import { type Received, startReceiver, verifySignature } from "../alert/_receiver.ts";

const SECRET = "a-webhook-secret-for-tests";
const CA_FILE = new URL("../testdata/tls/ca.pem", import.meta.url).pathname;

/** The sites file: `sites` with the given `alert` keys, both channels. */
function sitesFile(
  ports: { readonly webhook: string; readonly smtp: number },
  alert: string,
  ids: readonly string[] = ["shop"],
): string {
  return `defaults:
  interval: 5s
  alert:
${alert.split("\n").map((line) => `    ${line}`).join("\n")}
    channels: [hook, mail]
channels:
  hook:
    type: webhook
    url: ${ports.webhook}
    secret: \${WEBHOOK_SECRET}
  mail:
    type: email
    host: localhost
    port: ${ports.smtp}
    user: ${USER}
    password: \${SMTP_PASSWORD}
    from: Monitor <monitor@example.com>
    to: oncall@example.com
    ca_file: ${CA_FILE}
sites:
${ids.map((id) => `  - id: ${id}\n    url: https://${id}.example/`).join("\n")}
`;
}

/** Results of `siteId`, up or down, from `region`, checked one after the other from now. */
function results(siteId: string, ups: readonly boolean[], region = "eu"): CheckResult[] {
  const startMs = Date.now();
  return ups.map((up, i) =>
    makeResult({
      siteId,
      region,
      checkedAt: new Date(startMs + i).toISOString(),
      ...(up ? {} : { up: false, error: { kind: "timeout", message: "No answer within 10s" } }),
    })
  );
}

/** Everything a test needs: services, receivers, a file, and a way to publish results. */
async function setUp(
  alert: string,
  options: {
    readonly webhook?: (r: Received) => Response | Promise<Response>;
    readonly ids?: readonly string[];
  } = {},
) {
  const webhook = startReceiver(options.webhook);
  const smtp = await startSmtpServer();
  const env = testEnv({
    WEBHOOK_SECRET: SECRET,
    SMTP_PASSWORD: PASSWORD,
    LOG_LEVEL: "info",
    // Its own lock: the server's advisory locks are shared by every test running at the same time.
    KAFKA_ALERT_GROUP_ID: `test-alerter-${crypto.randomUUID().slice(0, 8)}`,
  });
  const dir = await Deno.makeTempDir();
  const file = `${dir}/sites.yaml`;
  // (Silence is not what most tests are about: a site without results goes stale late.)
  const rules = alert.includes("stale_after") ? alert : `${alert}\nstale_after: 100`;
  const ports = { webhook: webhook.url("/hook"), smtp: smtp.port };
  await Deno.writeTextFile(file, sitesFile(ports, rules, options.ids ?? ["shop"]));
  const settings = readSettings(env);
  const producer = await openTestProducer(createKafka(settings.kafka, SILENT));
  return {
    env,
    file,
    webhook,
    smtp,
    async publish(checks: readonly CheckResult[]): Promise<void> {
      await producer.send({
        topic: settings.kafka.topic,
        messages: checks.map((c) => ({ key: c.siteId, value: JSON.stringify(c) })),
      });
    },
    /** Distinct idempotency keys the webhook received for `transition`. */
    webhookKeys(transition: "opened" | "resolved"): Set<string> {
      return new Set(
        webhook.received.filter((r) => r.path === "/hook")
          .map((r) => JSON.parse(r.body) as { transition: string; idempotencyKey: string })
          .filter((n) => n.transition === transition).map((n) => n.idempotencyKey),
      );
    },
    /** Distinct idempotency keys the mail server received for `transition`. */
    mailKeys(transition: "opened" | "resolved"): Set<string> {
      const keys = smtp.delivered.map((d) => header(d.raw, "X-Monitor-Idempotency-Key") ?? "");
      return new Set(keys.filter((key) => key.endsWith(`/${transition}`)));
    },
    async [Symbol.asyncDispose]() {
      await producer.disconnect();
      await webhook[Symbol.asyncDispose]();
      await smtp[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the alerter is in its group: a new group starts at the end of the topic, so results
 * published before would not be its business.
 */
async function joined(log: () => string): Promise<void> {
  await waitFor("the alerter in its group", () => /alerting/.test(log()) || undefined);
  await sleep(1_000);
}

Deno.test({
  name:
    "monitor alert: a flapping site notifies no one; three failures trigger once on every channel, two successes resolve once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await setUp("failure_threshold: 3\nsuccess_threshold: 2");
    await withDatabase(t.env, async () => {
      const alerter = monitor(["alert", "--config", t.file], t.env);
      await joined(alerter.err);
      try {
        await t.publish(results("shop", [false, true, false, true, false, true, false, true]));
        await sleep(3_000);
        assert.equal(t.webhook.received.length, 0, "the flapping site notified");
        await t.publish(results("shop", [false, false, false]));
        await waitFor(
          "the trigger on both channels",
          () => t.webhookKeys("opened").size === 1 && t.mailKeys("opened").size === 1 || undefined,
        );
        const [delivery] = t.webhook.received;
        assert.ok(verifySignature(SECRET, delivery!));
        await t.publish(results("shop", [true, true]));
        await waitFor(
          "the resolve on both channels",
          () =>
            t.webhookKeys("resolved").size === 1 && t.mailKeys("resolved").size === 1 || undefined,
        );
        await sleep(1_000);
        assert.equal(t.webhook.received.length, 2, "deliveries to the webhook");
        assert.equal(t.smtp.delivered.length, 2, "e-mails");
      } finally {
        alerter.stop();
        assert.equal(await alerter.code, 0, alerter.err());
      }
    });
  },
});

Deno.test({
  name:
    "monitor alert: with a quorum of 2 regions, one region failing alone opens nothing; both open one incident",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await setUp("failure_threshold: 2\nregions: 2");
    await withDatabase(t.env, async (sql) => {
      const alerter = monitor(["alert", "--config", t.file], t.env);
      await joined(alerter.err);
      try {
        await t.publish([
          ...results("shop", [true], "us"),
          ...results("shop", [false, false, false], "eu"),
        ]);
        await sleep(3_000);
        assert.equal(t.webhook.received.length, 0, "one region alone notified");
        await t.publish(results("shop", [false, false], "us"));
        await waitFor("one trigger", () => t.webhookKeys("opened").size === 1 || undefined);
        const incidents = await sql`SELECT site_id, kind, regions FROM incidents`;
        assert.deepEqual(incidents.map((i) => [i.site_id, i.kind, [...i.regions].sort()]), [
          ["shop", "down", ["eu", "us"]],
        ]);
        // What monitor watch shows of them.
        const open = await openIncidents(sql, 20);
        assert.deepEqual(open.map((i) => [i.siteName, i.kind, [...i.regions].sort()]), [
          ["shop", "down", ["eu", "us"]],
        ]);
      } finally {
        alerter.stop();
        assert.equal(await alerter.code, 0, alerter.err());
      }
    });
  },
});

Deno.test({
  name:
    "monitor alert: a webhook answering 500 for 30 s gets the notification after, once; the e-mail is not delayed",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const failUntilMs = { value: Infinity };
    await using t = await setUp("failure_threshold: 1", {
      webhook: () => new Response("down", { status: Date.now() < failUntilMs.value ? 500 : 200 }),
    });
    await withDatabase(t.env, async () => {
      const alerter = monitor(["alert", "--config", t.file], t.env);
      await joined(alerter.err);
      try {
        failUntilMs.value = Date.now() + 30_000;
        await t.publish(results("shop", [false]));
        await waitFor("the e-mail", () => t.mailKeys("opened").size === 1 || undefined, 20_000);
        assert.ok(Date.now() < failUntilMs.value - 10_000, "the e-mail waited for the webhook");
        await waitFor("the webhook, once it answers", () => {
          const accepted = t.webhook.received.filter((r) => r.path === "/hook");
          return accepted.length > 0 && Date.now() > failUntilMs.value &&
              t.webhookKeys("opened").size === 1 || undefined;
        }, 60_000);
        await sleep(3_000);
        const attempts = t.webhook.received.length;
        await sleep(5_000);
        assert.equal(
          t.webhook.received.length,
          attempts,
          "the webhook was sent to again after it accepted",
        );
        assert.ok(attempts >= 3, `attempts: ${attempts}`);
      } finally {
        alerter.stop();
        assert.equal(await alerter.code, 0, alerter.err());
      }
    });
  },
});

Deno.test({
  name:
    "monitor alert killed between an incident and its notification, and again between sending and marking it: one trigger per channel by key, and the resolve arrives",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // While held, the webhook takes requests (and counts them) but does not answer.
    let release = () => {};
    let held = Promise.resolve();
    const hold = () => held = new Promise<void>((resolve) => release = resolve);
    hold();
    await using t = await setUp("failure_threshold: 2", {
      webhook: () => held.then(() => new Response("ok")),
    });
    const deliveries = (transition: string) =>
      t.webhook.received.filter((r) => JSON.parse(r.body).transition === transition).length;
    await withDatabase(t.env, async () => {
      let alerter: MonitorProcess = spawnMonitor(["alert", "--config", t.file], t.env);
      await joined(alerter.log);
      try {
        // Killed between the incident and its notification: the incident and its outbox rows
        // are saved, the webhook has the trigger, unanswered.
        await t.publish(results("shop", [false, false]));
        await waitFor("the trigger reached", () => deliveries("opened") > 0 || undefined);
        await alerter.stop("SIGKILL");
        release();
        alerter = spawnMonitor(["alert", "--config", t.file], t.env);
        await waitFor(
          "the trigger again",
          () => deliveries("opened") >= 2 && t.mailKeys("opened").size === 1 || undefined,
          30_000,
        );
        // Killed between sending and marking: the webhook took the resolve, it is not answered.
        hold();
        await t.publish(results("shop", [true, true]));
        await waitFor("the resolve reached", () => deliveries("resolved") > 0 || undefined);
        await alerter.stop("SIGKILL");
        release();
        alerter = spawnMonitor(["alert", "--config", t.file], t.env);
        await waitFor("the resolve again", () => deliveries("resolved") >= 2 || undefined, 30_000);
        await waitFor("the resolve e-mail", () => t.mailKeys("resolved").size === 1 || undefined);
        await sleep(3_000);
        // Sent again, each with the key it had: one trigger and one resolve, as a receiver takes them.
        assert.equal(t.webhookKeys("opened").size, 1);
        assert.equal(t.webhookKeys("resolved").size, 1);
        assert.equal(t.mailKeys("opened").size, 1);
        assert.equal(t.mailKeys("resolved").size, 1);
      } finally {
        await alerter.stop("SIGTERM");
      }
    });
  },
});

Deno.test({
  name: "monitor alert: a site with no results for stale_after intervals opens a stale incident",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await setUp("stale_after: 2", { ids: ["shop", "blog"] });
    await withDatabase(t.env, async () => {
      const alerter = monitor(["alert", "--config", t.file], t.env);
      await joined(alerter.err);
      try {
        const startMs = Date.now();
        await t.publish([...results("shop", [true]), ...results("blog", [true])]);
        // Every checker stopped: nothing more arrives. Stale after 2 intervals (10 s), told
        // within two ticks (10 s) of that: silence is judged as of the tick before.
        await waitFor(
          "two stale incidents",
          () => t.webhookKeys("opened").size === 2 || undefined,
          30_000,
        );
        const tookMs = Date.now() - startMs;
        assert.ok(tookMs >= 10_000 && tookMs < 25_000, `stale after ${tookMs} ms`);
        const kinds = t.webhook.received.map((r) => JSON.parse(r.body).kind);
        assert.deepEqual(kinds, ["stale", "stale"]);
      } finally {
        alerter.stop();
        assert.equal(await alerter.code, 0, alerter.err());
      }
    });
  },
});

Deno.test({
  name:
    "monitor alert whose database session ends stops with an error, leaving the work to the next alerter",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await setUp("failure_threshold: 1");
    await withDatabase(t.env, async (sql) => {
      const alerter = spawnMonitor(["alert", "--config", t.file], t.env);
      let code: number | undefined;
      try {
        await joined(alerter.log);
        // The session holding its lock ends: another alerter may take the lock at once.
        const key = `monitor alert ${t.env.KAFKA_ALERT_GROUP_ID}`;
        const [{ ended }] = await sql<[{ ended: number }]>`
          SELECT count(pg_terminate_backend(pid))::int AS ended FROM pg_locks
          WHERE locktype = 'advisory' AND granted
            AND (classid::bigint << 32 | objid::bigint) = hashtext(${key})`;
        assert.equal(ended, 1);
        // It ends by itself: SIGCONT, which a running process ignores, only waits for that.
        void alerter.stop("SIGCONT").then((stopped) => code = stopped.code);
        await waitFor("the alerter to stop by itself", () => code, 20_000);
        assert.equal(code, 1, alerter.log());
        assert.match(alerter.log(), /The alerter lost its database lock: another may be at work/);
      } finally {
        if (code === undefined) await alerter.stop("SIGKILL");
      }
    });
  },
});
