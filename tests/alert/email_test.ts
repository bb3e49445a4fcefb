import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ChannelError } from "../../src/alert/channels/channel.ts";
import type { EmailChannelConfig } from "../../src/alert/channels/config.ts";
import { emailChannel } from "../../src/alert/channels/email.ts";
import { OPENED, RESOLVED, secretPieces } from "./_receiver.ts";
import { CA, header, PASSWORD, startSmtpServer, USER } from "../_helpers/smtp_receiver.ts";

function config(port: number, overrides: Partial<EmailChannelConfig> = {}): EmailChannelConfig {
  return {
    type: "email",
    name: "mail",
    host: "localhost", // the name in the test certificate
    port,
    secure: false,
    auth: { user: USER, password: PASSWORD },
    from: "Monitor <monitor@example.com>",
    to: ["oncall@example.com", "ops@example.com"],
    caCert: CA,
    timeoutMs: 5_000,
    ...overrides,
  };
}

/** The body of a raw message, quoted-printable decoded. */
function body(raw: string): string {
  const encoded = raw.slice(raw.indexOf("\r\n\r\n") + 4).replaceAll("=\r\n", "");
  const bytes = encoded.replace(
    /=([0-9A-F]{2})/g,
    (_, hex: string) => String.fromCharCode(parseInt(hex, 16)),
  );
  return new TextDecoder().decode(Uint8Array.from(bytes, (c) => c.charCodeAt(0)));
}

/** A header's value in a raw message (unfolded). */

Deno.test("email send() delivers over STARTTLS after authenticating", async () => {
  await using server = await startSmtpServer();
  await emailChannel(config(server.port)).send(OPENED);
  const [mail] = server.delivered;
  assert.equal(mail?.secure, true, "STARTTLS was used");
  assert.equal(mail.user, USER);
  assert.equal(mail.from, "monitor@example.com");
  assert.deepEqual(mail.to, ["oncall@example.com", "ops@example.com"]);
  assert.equal(
    header(mail.raw, "Subject"),
    "[critical] Web shop <prod> is down: timeout: No response headers within 10s",
  );
  assert.match(header(mail.raw, "Message-ID") ?? "", /^<alert\.[0-9a-f]{64}@website-monitor>$/);
  assert.equal(header(mail.raw, "X-Monitor-Idempotency-Key"), OPENED.idempotencyKey);
  assert.equal(header(mail.raw, "X-Monitor-Incident"), OPENED.incidentId);
  assert.match(body(mail.raw), /\r\nCause: {5}timeout: No response headers within 10s\r\n/);
});

Deno.test("email send() gives the same transition the same Message-ID, another one another", async () => {
  await using server = await startSmtpServer();
  const channel = emailChannel(config(server.port));
  await channel.send(OPENED);
  await channel.send(OPENED);
  await channel.send(RESOLVED);
  const [first, again, resolved] = server.delivered.map((m) => header(m.raw, "Message-ID"));
  assert.equal(again, first);
  assert.notEqual(resolved, first);
  assert.match(
    body(server.delivered[2]!.raw),
    /\r\nResolved: {2}2026-11-25T10:08:00\.000Z, by check /,
  );
});

Deno.test("email send() delivers over TLS from the first byte when secure", async () => {
  await using server = await startSmtpServer({ secure: true });
  await emailChannel(config(server.port, { secure: true })).send(OPENED);
  assert.equal(server.delivered[0]?.secure, true);
});

Deno.test("email send() never sends in clear text to a server without STARTTLS", async () => {
  await using server = await startSmtpServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
  });
  const error = await emailChannel(config(server.port)).send(OPENED).then(() => null, (e) => e);
  assert.ok(error instanceof ChannelError, String(error));
  assert.match(
    error.message,
    /^Channel "mail" \(email\) could not send through localhost:\d+: ETLS: /,
  );
  assert.equal(server.delivered.length, 0);
});

Deno.test("email send() rejects a wrong password without the password", async () => {
  await using server = await startSmtpServer();
  const channel = emailChannel(
    config(server.port, { auth: { user: USER, password: "wrong-one" } }),
  );
  const error = await channel.send(OPENED).then(() => null, (e) => e);
  assert.ok(error instanceof ChannelError, String(error));
  assert.match(error.message, /could not send through localhost:\d+: EAUTH: /);
  assert.equal(error.message.includes("wrong-one"), false);
  assert.equal(server.delivered.length, 0);
});

Deno.test("email send() rejects when the server refuses the message, by its reply code", async () => {
  await using server = await startSmtpServer({
    onData(stream, _session, callback) {
      stream.resume();
      stream.on(
        "end",
        () => callback(Object.assign(new Error("Try again later"), { responseCode: 451 })),
      );
    },
  });
  const error = await emailChannel(config(server.port)).send(OPENED).then(() => null, (e) => e);
  assert.ok(error instanceof ChannelError, String(error));
  assert.match(
    error.message,
    /^Channel "mail" \(email\) could not send through localhost:\d+: EMESSAGE: the server refused the message \(SMTP 451\)$/,
  );
});

Deno.test("email send() never quotes a server that echoes the credentials in any form", async () => {
  const plain = Buffer.from(`\0${USER}\0${PASSWORD}`).toString("base64");
  const echoes = [
    PASSWORD,
    PASSWORD.slice(3, 13),
    plain,
    Buffer.from(PASSWORD).toString("base64"),
    encodeURIComponent(PASSWORD),
  ];
  for (const echo of echoes) {
    await using server = await startSmtpServer({
      onAuth(_auth, _session, callback) {
        callback(Object.assign(new Error(`5.7.8 ${echo} rejected`), { responseCode: 535 }));
      },
    });
    const error = await emailChannel(config(server.port)).send(OPENED).then(
      () => null,
      (e) => e,
    );
    assert.ok(error instanceof ChannelError, String(error));
    assert.deepEqual(secretPieces(error.message, [PASSWORD, plain, ...echoes]), []);
    assert.match(
      error.message,
      /^Channel "mail" \(email\) could not send through localhost:\d+: EAUTH: authentication failed \(SMTP 535\)$/,
    );
  }
});

Deno.test("email send() refuses a server whose certificate does not verify", async () => {
  await using server = await startSmtpServer();
  const error = await emailChannel(config(server.port, { caCert: null })).send(OPENED).then(
    () => null,
    (e) => e,
  );
  assert.ok(error instanceof ChannelError, String(error));
  assert.match(error.message, /ESOCKET: its TLS certificate is not trusted$/);
  assert.equal(server.delivered.length, 0);
});

// The channel's deadline and nodemailer's timeouts were the same 300 ms: whichever timer fired
// first wrote the message. Many sends at once make a race that is lost once in a while certain.
Deno.test("email send() gives up on a server that never answers at its deadline, with one message", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const connection of listener) connections.push(connection); // and say nothing
  })();
  try {
    const channel = emailChannel(config(listener.addr.port, { timeoutMs: 300 }));
    const errors = await Promise.all(
      Array.from({ length: 50 }, () => channel.send(OPENED).then(() => null, (e) => e)),
    );
    for (const error of errors) {
      assert.ok(error instanceof ChannelError, String(error));
      assert.match(
        error.message,
        /^Channel "mail" \(email\) got no answer from localhost:\d+ within 300ms$/,
      );
    }
  } finally {
    listener.close();
    await accepting;
    for (const connection of connections) connection.close();
  }
});
