import assert from "node:assert/strict";
import { ChannelError } from "../../src/alert/channels/channel.ts";
import { pagerDutyChannel } from "../../src/alert/channels/pagerduty.ts";
import { OPENED, type Received, RESOLVED, secretPieces, startReceiver } from "./_receiver.ts";

const ROUTING_KEY = "R0123456789abcdef0123456789abcde";

/** Answers as the Events API v2 does to a valid event. */
function accepted(request: Received): Response {
  const { dedup_key } = JSON.parse(request.body);
  return Response.json({ status: "success", message: "Event processed", dedup_key }, {
    status: 202,
  });
}

function channel(url: string) {
  return pagerDutyChannel({
    type: "pagerduty",
    name: "oncall",
    routingKey: ROUTING_KEY,
    url,
    timeoutMs: 5_000,
  });
}

Deno.test("pagerduty send() triggers an alert whose dedup_key is the incident id", async () => {
  await using receiver = startReceiver(accepted);
  await channel(receiver.url("/v2/enqueue")).send(OPENED);
  const [request] = receiver.received;
  assert.equal(request?.path, "/v2/enqueue");
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.deepEqual(JSON.parse(request.body), {
    routing_key: ROUTING_KEY,
    event_action: "trigger",
    dedup_key: OPENED.incidentId,
    client: "website-monitor",
    payload: {
      summary: "Web shop <prod> is down: timeout: No response headers within 10s",
      source: "shop.example.com",
      severity: "critical",
      timestamp: "2026-11-25T10:03:00.000Z",
      component: "shop",
      class: "down",
      custom_details: {
        site: "Web shop <prod>",
        url: "https://shop.example.com/health",
        error_kind: "timeout",
        status_code: null,
        response_time_ms: null,
        message: "No response headers within 10s",
        regions: ["eu-west", "us-east"],
        opened_by_check_id: OPENED.openedByCheckId,
        idempotency_key: OPENED.idempotencyKey,
      },
    },
    links: [{ href: "https://shop.example.com/health", text: "Web shop <prod>" }],
  });
});

Deno.test("pagerduty send() resolves the alert with the same dedup_key", async () => {
  await using receiver = startReceiver(accepted);
  await channel(receiver.url("/v2/enqueue")).send(RESOLVED);
  assert.deepEqual(JSON.parse(receiver.received[0]!.body), {
    routing_key: ROUTING_KEY,
    event_action: "resolve",
    dedup_key: OPENED.incidentId,
  });
});

Deno.test("pagerduty send() rejects an invalid event, never quoting the routing key in any form", async () => {
  const echoes = [
    (key: string) => `Unknown routing_key ${key}`,
    (key: string) => `Unknown routing_key ${key.slice(0, 8)}…`,
    (key: string) => `key ${key.slice(12, 24)} is not enabled`,
    (key: string) => encodeURIComponent(`routing_key=${key}`),
    (key: string) => [...key].join(" "),
  ];
  await using receiver = startReceiver((request) => {
    const echo = echoes[(receiver.received.length - 1) % echoes.length]!;
    return Response.json({
      status: "invalid event",
      message: "Event object is invalid",
      errors: [echo(JSON.parse(request.body).routing_key)],
    }, { status: 400 });
  });
  for (let i = 0; i < echoes.length; i++) {
    const error = await channel(receiver.url("/v2/enqueue")).send(OPENED).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(error instanceof ChannelError);
    assert.deepEqual(secretPieces(error.message, [ROUTING_KEY]), []);
    assert.equal(
      error.message,
      'Channel "oncall" (pagerduty) refused the notification: HTTP 400 (Bad Request)',
    );
  }
});

Deno.test("pagerduty send() rejects 429 and 500 answers by status", async () => {
  await using receiver = startReceiver();
  for (const status of [429, 500]) {
    const error = await channel(receiver.url(`/code/${status}`)).send(OPENED).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(error instanceof ChannelError);
    assert.match(error.message, new RegExp(`HTTP ${status} \\([A-Za-z ]+\\)$`));
  }
});
