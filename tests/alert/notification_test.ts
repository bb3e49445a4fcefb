import assert from "node:assert/strict";
import { notificationOf, notificationSchema } from "../../src/alert/notification.ts";
import { jsonSchemas } from "../../src/cli/schema.ts";
import { check, run, series } from "./_checks.ts";

const SITE = { name: "Web shop", url: "https://shop.example.com/health" };

Deno.test("notificationOf() tells each transition of each kind in one line", () => {
  const { transitions } = run([
    ...series("c", ["fail", "fail", "fail"]),
    { tick: 400 },
    ...series("d", ["slow", "slow", "slow", "ok", "ok"], 600),
  ]);
  const notifications = transitions.map((t) => notificationOf(t, SITE));
  assert.deepEqual(notifications.map((n) => [n.idempotencyKey, n.severity, n.summary]), [
    [
      "shop/down/c3/opened",
      "critical",
      "Web shop is down: unexpected_status: Status 503 is not in 200-399",
    ],
    [
      "shop/stale/after-c3/opened",
      "error",
      "Web shop is stale: No result for 3m40s: the newest check started at 2026-11-25T10:03:00.000Z",
    ],
    ["shop/stale/after-c3/resolved", "error", "Web shop reports again, after 3m20s silent"],
    ["shop/down/c3/resolved", "critical", "Web shop is up again, after 8m down"],
    ["shop/degraded/d3/opened", "warning", "Web shop is slow: Response time 5000 ms is over 2s"],
    ["shop/degraded/d3/resolved", "warning", "Web shop is fast again, after 2m slow"],
  ]);
  for (const notification of notifications) notificationSchema.parse(notification);
});

Deno.test("notificationOf() gives the same transition the same notification, whoever computes it", () => {
  const events = series("c", ["fail", "fail", "fail"]);
  const first = run(events).transitions.map((t) => notificationOf(t, SITE));
  const again = run([...events, ...events]).transitions.map((t) => notificationOf(t, SITE));
  assert.deepEqual(again, first);
  assert.equal(JSON.stringify(again[0]), JSON.stringify(first[0]));
});

Deno.test("notificationOf() carries the cause, the regions and the checks that opened and closed it", () => {
  const { transitions } = run([
    check("eu1", 60, "fail", "eu"),
    check("us1", 61, "fail", "us"),
    check("eu2", 120, "fail", "eu"),
    check("us2", 121, "fail", "us"),
    check("eu3", 180, "fail", "eu"),
    check("us3", 181, "fail", "us"),
    check("eu4", 240, "ok", "eu"),
    check("eu5", 300, "ok", "eu"),
  ], {
    failureThreshold: 3,
    successThreshold: 2,
    regions: "majority",
    responseTimeMs: null,
    staleAfterMs: 180_000,
    channels: [],
  });
  const [opened, resolved] = transitions.map((t) => notificationOf(t, SITE));
  assert.equal(opened?.openedByCheckId, "us3");
  assert.deepEqual(opened.regions, ["eu", "us"]);
  assert.equal(opened.cause.statusCode, 503);
  assert.equal(resolved?.resolvedByCheckId, "eu5");
  assert.equal(resolved.resolvedAt, "2026-11-25T10:05:00.000Z");
});

Deno.test("notificationOf() makes control characters in a summary harmless", () => {
  const [transition] = run(series("c", ["fail", "fail", "fail"])).transitions;
  const notification = notificationOf(transition!, { name: "Shop\u001b[2J", url: SITE.url });
  assert.equal(notification.summary.startsWith("Shop\uFFFD[2J is down"), true);
});

Deno.test("the webhook's JSON Schema requires every field of the body", () => {
  const schema = jsonSchemas()["alert_webhook.v1.json"] as {
    required: string[];
    additionalProperties: boolean;
  };
  assert.deepEqual(schema.required.toSorted(), Object.keys(notificationSchema.shape).toSorted());
  assert.equal(schema.additionalProperties, false);
});
