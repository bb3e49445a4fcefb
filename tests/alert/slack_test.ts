import assert from "node:assert/strict";
import { ChannelError } from "../../src/alert/channels/channel.ts";
import { slackChannel } from "../../src/alert/channels/slack.ts";
import { OPENED, RESOLVED, secretPieces, startReceiver } from "./_receiver.ts";

/** A path shaped like Slack's, whose last part is the secret token. */
const TOKEN_PATH = "/services/T0000/B0000/XXXXsecretTOKENXXXX";

function channel(url: string) {
  return slackChannel({ type: "slack", name: "team", url, timeoutMs: 5_000 });
}

Deno.test("slack send() POSTs an incoming-webhook message: text, a section and a context", async () => {
  await using receiver = startReceiver(() => new Response("ok"));
  await channel(receiver.url(TOKEN_PATH)).send(OPENED);
  const [request] = receiver.received;
  assert.equal(request?.path, TOKEN_PATH);
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.deepEqual(JSON.parse(request.body), {
    text: ":red_circle: Web shop &lt;prod&gt; is down: timeout: No response headers within 10s",
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: "<https://shop.example.com/health|Web shop &lt;prod&gt;>: " +
            ":red_circle: Web shop &lt;prod&gt; is down: timeout: No response headers within 10s",
        },
      },
      {
        type: "context",
        elements: [{
          type: "mrkdwn",
          text:
            "*down* (critical) · regions: eu-west, us-east · opened 2026-11-25T10:03:00.000Z · " +
            "incident `shop/down/0190d6a8-7b5c-7def-8abc-0123456789ab`",
        }],
      },
    ],
  });
});

Deno.test("slack send() says a resolved incident in green, with when it resolved", async () => {
  await using receiver = startReceiver();
  await channel(receiver.url(TOKEN_PATH)).send(RESOLVED);
  const message = JSON.parse(receiver.received[0]!.body);
  assert.equal(
    message.text,
    ":large_green_circle: Web shop &lt;prod&gt; is up again, after 5m down",
  );
  assert.match(message.blocks[1].elements[0].text, /resolved 2026-11-25T10:08:00\.000Z/);
});

Deno.test("slack send() rejects Slack's errors by status", async () => {
  await using receiver = startReceiver(() => new Response("no_service", { status: 404 }));
  const error = await channel(receiver.url(TOKEN_PATH)).send(OPENED).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof ChannelError);
  assert.equal(
    error.message,
    'Channel "team" (slack) refused the notification: HTTP 404 (Not Found)',
  );
});

Deno.test("slack send() rejects when the receiver answers 500", async () => {
  await using receiver = startReceiver();
  await assert.rejects(channel(receiver.url("/code/500")).send(OPENED), {
    name: "ChannelError",
    message: 'Channel "team" (slack) refused the notification: HTTP 500 (Internal Server Error)',
  });
});

Deno.test("slack send() never quotes an answer that echoes the URL in any form", async () => {
  const token = TOKEN_PATH.split("/").at(-1)!;
  await using receiver = startReceiver((request) => {
    const url = receiver.url(request.path);
    const echoes = [
      `invalid_token for ${request.path}`,
      token,
      encodeURIComponent(url),
      encodeURI(url.toUpperCase()),
      token.slice(4, 14),
      JSON.stringify({ url }),
    ];
    const which = receiver.received.length - 1;
    return new Response(echoes[which % echoes.length], { status: which % 2 ? 400 : 403 });
  });
  const url = receiver.url(TOKEN_PATH);
  for (let i = 0; i < 6; i++) {
    const error = await channel(url).send(OPENED).then(() => null, (e: unknown) => e);
    assert.ok(error instanceof ChannelError);
    assert.deepEqual(secretPieces(error.message, [url, token, url.toUpperCase()]), []);
    assert.match(
      error.message,
      /^Channel "team" \(slack\) refused the notification: HTTP 40[03] \((Bad Request|Forbidden)\)$/,
    );
  }
});
