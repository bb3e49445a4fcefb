/**
 * E-mail over SMTP with nodemailer, always encrypted, one connection per message. The `Message-ID`
 * comes from the idempotency key: a mail store that drops duplicates drops a repeated delivery.
 *
 * @module
 */
import { createHash } from "node:crypto";
import nodemailer from "nodemailer";
import { formatElapsed, type Notification } from "../notification.ts";
import { type Channel, ChannelError, connectionFault, sendDeadline } from "./channel.ts";
import type { EmailChannelConfig } from "./config.ts";

const MAX_SUBJECT_CHARS = 200;

function emailMessage(notification: Notification) {
  const { cause, openedAt, openedByCheckId, resolvedAt, resolvedByCheckId } = notification;
  const tag = notification.transition === "opened" ? notification.severity : "resolved";
  const lasted = formatElapsed(
    resolvedAt === null ? 0 : Date.parse(resolvedAt) - Date.parse(openedAt),
  );
  const lines = [
    notification.summary,
    "",
    `Site:      ${notification.siteName} (${notification.siteId})`,
    `URL:       ${notification.url}`,
    `Incident:  ${notification.incidentId} (${notification.kind})`,
    `Opened:    ${openedAt}${openedByCheckId === null ? "" : `, by check ${openedByCheckId}`}`,
    resolvedAt === null
      ? null
      : `Resolved:  ${resolvedAt}, by check ${resolvedByCheckId ?? "-"} (after ${lasted})`,
    notification.regions.length === 0 ? null : `Regions:   ${notification.regions.join(", ")}`,
    `Cause:     ${cause.errorKind === null ? "" : `${cause.errorKind}: `}${cause.message}`,
    cause.statusCode === null ? null : `Status:    ${cause.statusCode}`,
    cause.responseTimeMs === null ? null : `Time:      ${Math.round(cause.responseTimeMs)} ms`,
  ].filter((line) => line !== null);
  const digest = createHash("sha256").update(notification.idempotencyKey).digest("hex");
  return {
    subject: `[${tag}] ${notification.summary}`.slice(0, MAX_SUBJECT_CHARS),
    text: `${lines.join("\n")}\n`,
    messageId: `<alert.${digest}@website-monitor>`,
    headers: {
      "X-Monitor-Idempotency-Key": notification.idempotencyKey,
      "X-Monitor-Incident": notification.incidentId,
    },
  };
}

/** Nodemailer's error codes in our words: its messages quote the server, which may echo secrets. */
const SMTP_FAULTS = new Map([
  ["EAUTH", "authentication failed"],
  ["ENOAUTH", "the server asks for a user and a password"],
  ["ETLS", "TLS could not be set up (a server on a STARTTLS port must offer it)"],
  ["EREQUIRETLS", "the server does not support REQUIRETLS"],
  ["EENVELOPE", "the server refused the sender or a recipient"],
  ["EMESSAGE", "the server refused the message"],
  ["EPROTOCOL", "the server's answer is not SMTP"],
]);

/** An e-mail channel; its password never appears in an error. */
export function emailChannel(config: EmailChannelConfig): Channel {
  return {
    name: config.name,
    async send(notification, options = {}) {
      const message = emailMessage(notification);
      // Nodemailer's own timers come later than the deadline: were they due with it, either could
      // fire first and tell the same timeout in other words.
      const backstopMs = config.timeoutMs * 2;
      const transport = nodemailer.createTransport({
        host: config.host,
        port: config.port,
        secure: config.secure,
        requireTLS: !config.secure,
        auth: config.auth === null
          ? undefined
          : { user: config.auth.user, pass: config.auth.password },
        tls: config.caCert === null ? undefined : { ca: config.caCert },
        dnsTimeout: backstopMs,
        connectionTimeout: backstopMs,
        greetingTimeout: backstopMs,
        socketTimeout: backstopMs,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      using deadline = sendDeadline(config.timeoutMs, options.signal);
      const { signal } = deadline;
      try {
        await transport.sendMail({ ...message, from: config.from, to: [...config.to], signal });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        throw failure(config, error, deadline.timedOut());
      } finally {
        transport.close();
      }
    },
  };
}

function failure(config: EmailChannelConfig, error: unknown, timedOut: boolean): ChannelError {
  const server = `${config.host}:${config.port}`;
  if (timedOut) {
    const within = formatElapsed(config.timeoutMs);
    return new ChannelError(config, `got no answer from ${server} within ${within}`);
  }
  const { code, responseCode } = error as { code?: unknown; responseCode?: unknown };
  const known = typeof code === "string" ? code : null;
  const detail = (known === null ? undefined : SMTP_FAULTS.get(known)) ?? connectionFault(error);
  const reply = typeof responseCode === "number" ? ` (SMTP ${responseCode})` : "";
  const prefix = known === null || !/^E[A-Z0-9]+$/.test(known) ? "" : `${known}: `;
  return new ChannelError(config, `could not send through ${server}: ${prefix}${detail}${reply}`);
}
