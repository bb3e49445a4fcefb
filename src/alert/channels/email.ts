/**
 * E-mail over SMTP with nodemailer, always encrypted (TLS, or STARTTLS that the server must offer),
 * one connection per message. The `Message-ID` is derived from the idempotency key, so a repeated
 * delivery is the same message to a mail store that drops duplicates.
 *
 * @module
 */
import { createHash } from "node:crypto";
import nodemailer from "nodemailer";
import { formatElapsed, type Notification } from "../notification.ts";
import { type Channel, ChannelError, connectionFault } from "./channel.ts";
import type { EmailChannelConfig } from "./config.ts";

/** Long subjects are cut: mail clients show a line. */
const MAX_SUBJECT_CHARS = 200;

function emailMessage(notification: Notification) {
  const { cause, openedAt, openedByCheckId, resolvedAt, resolvedByCheckId } = notification;
  const tag = notification.transition === "opened" ? notification.severity : "resolved";
  const lastedMs = resolvedAt === null ? 0 : Date.parse(resolvedAt) - Date.parse(openedAt);
  const lines = [
    notification.summary,
    "",
    `Site:      ${notification.siteName} (${notification.siteId})`,
    `URL:       ${notification.url}`,
    `Incident:  ${notification.incidentId} (${notification.kind})`,
    `Opened:    ${openedAt}${openedByCheckId === null ? "" : `, by check ${openedByCheckId}`}`,
    resolvedAt === null
      ? null
      : `Resolved:  ${resolvedAt}, by check ${resolvedByCheckId ?? "-"} (after ${
        formatElapsed(lastedMs)
      })`,
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

/**
 * Nodemailer's error codes in our words (its messages quote the server's replies, which may echo
 * the credentials, as they are or in base64), and whether the same settings will meet them again.
 */
const SMTP_FAULTS: Readonly<Record<string, readonly [detail: string, permanent: boolean]>> = {
  EAUTH: ["authentication failed", true],
  ENOAUTH: ["the server asks for a user and a password", true],
  ETLS: ["TLS could not be set up (a server on a STARTTLS port must offer it)", true],
  EREQUIRETLS: ["the server does not support REQUIRETLS", true],
  EENVELOPE: ["the server refused the sender or a recipient", true],
  EMESSAGE: ["the server refused the message", true],
  EPROTOCOL: ["the server's answer is not SMTP", false],
};

/** An e-mail channel; its password never appears in an error. */
export function emailChannel(config: EmailChannelConfig): Channel {
  return {
    name: config.name,
    type: "email",
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
      const deadline = AbortSignal.timeout(config.timeoutMs);
      const signal = options.signal === undefined
        ? deadline
        : AbortSignal.any([options.signal, deadline]);
      try {
        await transport.sendMail({ ...message, from: config.from, to: [...config.to], signal });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        throw failure(config, error, deadline.aborted);
      } finally {
        transport.close();
      }
    },
  };
}

function failure(config: EmailChannelConfig, error: unknown, timedOut: boolean): ChannelError {
  const server = `${config.host}:${config.port}`;
  if (timedOut) {
    return new ChannelError(
      config,
      `got no answer from ${server} within ${formatElapsed(config.timeoutMs)}`,
      { retryable: true },
    );
  }
  const { code, responseCode } = error as { code?: unknown; responseCode?: unknown };
  const known = typeof code === "string" ? code : null;
  const fault = known === null ? undefined : SMTP_FAULTS[known];
  const reply = typeof responseCode === "number" ? ` (SMTP ${responseCode})` : "";
  const detail = fault?.[0] ?? connectionFault(error);
  // An SMTP reply says itself whether it is permanent (5xx) or passing (4xx).
  const permanent = typeof responseCode === "number" ? responseCode >= 500 : fault?.[1] === true;
  const prefix = known === null || !/^E[A-Z0-9]+$/.test(known) ? "" : `${known}: `;
  return new ChannelError(config, `could not send through ${server}: ${prefix}${detail}${reply}`, {
    retryable: !permanent,
  });
}
