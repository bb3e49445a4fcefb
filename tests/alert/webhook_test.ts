import assert from "node:assert/strict";
import { ChannelError } from "../../src/alert/channels/channel.ts";
import type { WebhookChannelConfig } from "../../src/alert/channels/config.ts";
import { webhookChannel } from "../../src/alert/channels/webhook.ts";
import { notificationSchema } from "../../src/alert/notification.ts";
import { OPENED, startReceiver, verifySignature } from "./_receiver.ts";

const SECRET = "e3b0c44298fc1c149afbf4c8996fb924";

function config(url: string, timeoutMs = 5_000): WebhookChannelConfig {
  return { type: "webhook", name: "ops", url, secret: SECRET, timeoutMs };
}

/** Runs `send` and returns its ChannelError. */
async function failure(send: Promise<void>): Promise<ChannelError> {
  const error = await send.then(() => null, (e: unknown) => e);
  assert.ok(error instanceof ChannelError, `not a ChannelError: ${error}`);
  return error;
}

Deno.test("webhook send() POSTs the notification as JSON, signed, with its idempotency key", async () => {
  await using receiver = startReceiver();
  await webhookChannel(config(receiver.url("/hook"))).send(OPENED);
  const [request] = receiver.received;
  assert.equal(request?.method, "POST");
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.equal(request.headers.get("idempotency-key"), OPENED.idempotencyKey);
  assert.match(request.headers.get("user-agent") ?? "", /^website-monitor\//);
  assert.deepEqual(notificationSchema.parse(JSON.parse(request.body)), OPENED);
  const signature = request.headers.get("x-monitor-signature");
  assert.match(signature ?? "", /^sha256=[0-9a-f]{64}$/);
  assert.equal(verifySignature(SECRET, request.body, signature), true);
  assert.equal(verifySignature("another secret of 32 characters", request.body, signature), false);
  assert.equal(verifySignature(SECRET, request.body.replace("down", "up"), signature), false);
});

Deno.test("webhook send() sends the same bytes and key for the same transition", async () => {
  await using receiver = startReceiver();
  const channel = webhookChannel(config(receiver.url("/hook")));
  await channel.send(OPENED);
  await channel.send(structuredClone(OPENED));
  const [first, second] = receiver.received;
  assert.equal(second?.body, first?.body);
  assert.equal(second?.headers.get("idempotency-key"), first?.headers.get("idempotency-key"));
  assert.equal(
    second?.headers.get("x-monitor-signature"),
    first?.headers.get("x-monitor-signature"),
  );
});

Deno.test("webhook send() rejects when the receiver answers 500, as worth retrying", async () => {
  await using receiver = startReceiver();
  const error = await failure(webhookChannel(config(receiver.url("/code/500"))).send(OPENED));
  assert.equal(
    error.message,
    'Channel "ops" (webhook) refused the notification: HTTP 500: code 500',
  );
  assert.equal(error.retryable, true);
});

Deno.test("webhook send() rejects a 4xx answer as not worth retrying", async () => {
  await using receiver = startReceiver();
  const error = await failure(webhookChannel(config(receiver.url("/code/410"))).send(OPENED));
  assert.equal(error.retryable, false);
  const throttled = await failure(webhookChannel(config(receiver.url("/code/429"))).send(OPENED));
  assert.equal(throttled.retryable, true);
});

Deno.test("webhook send() does not follow a redirect", async () => {
  await using receiver = startReceiver();
  const error = await failure(webhookChannel(config(receiver.url("/redirect"))).send(OPENED));
  assert.match(error.message, /was answered with a redirect \(HTTP 302\): configure the URL/);
  assert.equal(receiver.received.length, 1);
});

Deno.test("webhook send() gives up when the receiver does not answer within the timeout", async () => {
  await using receiver = startReceiver();
  const error = await failure(
    webhookChannel(config(receiver.url("/sleep/5000"), 200)).send(OPENED),
  );
  assert.equal(error.message, 'Channel "ops" (webhook) did not answer within 200ms');
  assert.equal(error.retryable, true);
});

Deno.test("webhook send() rejects with the caller's reason when its signal aborts", async () => {
  await using receiver = startReceiver();
  const controller = new AbortController();
  const sending = webhookChannel(config(receiver.url("/sleep/5000"))).send(OPENED, {
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(new Error("shutting down")), 50);
  await assert.rejects(sending, { message: "shutting down" });
});

Deno.test("webhook send() to nowhere says so without the URL's token or the secret", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close(); // nothing listens there now
  const url = `http://127.0.0.1:${port}/hooks/T0K3N-s3cr3t?key=an0th3r`;
  const error = await failure(webhookChannel(config(url)).send(OPENED));
  assert.match(error.message, /^Channel "ops" \(webhook\) could not be reached: /);
  assert.equal(error.retryable, true);
  for (const secret of ["T0K3N-s3cr3t", "an0th3r", SECRET]) {
    assert.equal(error.message.includes(secret), false, error.message);
  }
});
