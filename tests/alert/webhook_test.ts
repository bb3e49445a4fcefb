import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { ChannelError } from "../../src/alert/channels/channel.ts";
import type { WebhookChannelConfig } from "../../src/alert/channels/config.ts";
import { webhookChannel } from "../../src/alert/channels/webhook.ts";
import { notificationSchema } from "../../src/alert/notification.ts";
import { OPENED, secretPieces, startReceiver, verifySignature } from "./_receiver.ts";

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

Deno.test("webhook send() POSTs the notification as JSON, signed with the time it was sent", async () => {
  await using receiver = startReceiver();
  const beforeS = Math.floor(Date.now() / 1000);
  await webhookChannel(config(receiver.url("/hook"))).send(OPENED);
  const afterS = Math.ceil(Date.now() / 1000);
  const [request] = receiver.received;
  assert.equal(request?.method, "POST");
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.equal(request.headers.get("idempotency-key"), OPENED.idempotencyKey);
  assert.match(request.headers.get("user-agent") ?? "", /^website-monitor\//);
  assert.deepEqual(notificationSchema.parse(JSON.parse(request.body)), OPENED);
  const timestamp = Number(request.headers.get("x-monitor-timestamp"));
  assert.ok(timestamp >= beforeS && timestamp <= afterS, `timestamp ${timestamp}`);
  assert.match(request.headers.get("x-monitor-signature") ?? "", /^sha256=[0-9a-f]{64}$/);
  assert.equal(
    request.headers.get("x-monitor-signature"),
    "sha256=" +
      createHmac("sha256", SECRET).update(`${timestamp}.${request.body}`).digest("hex"),
  );
});

Deno.test("webhook send() is accepted by the verifier of docs/alerts.md, which refuses forgeries and replays", async () => {
  await using receiver = startReceiver();
  await webhookChannel(config(receiver.url("/hook"))).send(OPENED);
  const [request] = receiver.received;
  assert.ok(request !== undefined);
  const sentMs = Number(request.headers.get("x-monitor-timestamp")) * 1000;
  const headers = (changes: Record<string, string>) => {
    const copy = new Headers(request.headers);
    for (const [name, value] of Object.entries(changes)) copy.set(name, value);
    return copy;
  };
  assert.equal(verifySignature(SECRET, request), true);
  assert.equal(verifySignature("another secret of 32 characters", request), false);
  assert.equal(
    verifySignature(SECRET, { ...request, body: request.body.replace("down", "up") }),
    false,
  );
  // Good for 5 minutes either side of its timestamp (clocks differ): replayed 6 minutes later, or
  // seen 6 minutes early, it is refused.
  assert.equal(verifySignature(SECRET, request, sentMs + 4 * 60_000), true);
  assert.equal(verifySignature(SECRET, request, sentMs + 6 * 60_000), false);
  assert.equal(verifySignature(SECRET, request, sentMs - 6 * 60_000), false);
  // Replayed later with a fresh timestamp: the signature does not cover that one.
  const later = {
    ...request,
    headers: headers({ "x-monitor-timestamp": String(sentMs / 1000 + 360) }),
  };
  assert.equal(verifySignature(SECRET, later, sentMs + 6 * 60_000), false);
});

Deno.test("webhook send() sends the same body and key for the same transition, each attempt signed", async () => {
  await using receiver = startReceiver();
  const channel = webhookChannel(config(receiver.url("/hook")));
  await channel.send(OPENED);
  await channel.send(structuredClone(OPENED));
  const [first, second] = receiver.received;
  assert.ok(first !== undefined && second !== undefined);
  assert.equal(second.body, first.body);
  assert.equal(JSON.parse(second.body).idempotencyKey, OPENED.idempotencyKey);
  assert.equal(second.headers.get("idempotency-key"), first.headers.get("idempotency-key"));
  assert.equal(verifySignature(SECRET, first), true);
  assert.equal(verifySignature(SECRET, second), true);
});

Deno.test("webhook send() rejects when the receiver answers 500", async () => {
  await using receiver = startReceiver();
  const error = await failure(webhookChannel(config(receiver.url("/code/500"))).send(OPENED));
  assert.equal(
    error.message,
    'Channel "ops" (webhook) refused the notification: HTTP 500 (Internal Server Error)',
  );
});

Deno.test("webhook send() does not follow a redirect", async () => {
  await using receiver = startReceiver();
  const error = await failure(webhookChannel(config(receiver.url("/redirect"))).send(OPENED));
  assert.equal(
    error.message,
    'Channel "ops" (webhook) was answered with HTTP 302 (Found), a redirect: ' +
      "configure the URL it redirects to",
  );
  assert.equal(receiver.received.length, 1);
});

Deno.test("webhook send() gives up when the receiver does not answer within the timeout", async () => {
  await using receiver = startReceiver();
  const error = await failure(
    webhookChannel(config(receiver.url("/sleep/5000"), 200)).send(OPENED),
  );
  assert.equal(error.message, 'Channel "ops" (webhook) did not answer within 200ms');
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
  assert.equal(
    error.message,
    'Channel "ops" (webhook) could not be reached: the connection was refused',
  );
  assert.deepEqual(secretPieces(error.message, [url, SECRET]), []);
});

Deno.test("webhook send() never quotes a receiver that echoes the URL's token in any form", async () => {
  const token = "T0K3N-s3cr3t-0123456789";
  await using receiver = startReceiver((request) =>
    new Response(
      [
        request.path,
        token,
        token.slice(0, 10),
        encodeURIComponent(receiver.url(request.path)),
        request.headers.get("x-monitor-signature") ?? "",
      ].join(" "),
      { status: 400 },
    )
  );
  const url = receiver.url(`/hooks/${token}`);
  const error = await failure(webhookChannel(config(url)).send(OPENED));
  assert.deepEqual(secretPieces(error.message, [url, token, SECRET]), []);
  assert.equal(
    error.message,
    'Channel "ops" (webhook) refused the notification: HTTP 400 (Bad Request)',
  );
});
