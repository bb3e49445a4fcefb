/**
 * E-mail over SMTP with nodemailer, always encrypted: TLS from the first byte (`secure`) or
 * STARTTLS, which the server must then offer. One connection per message. The `Message-ID` is
 * derived from the idempotency key, so a repeated delivery is the same message to a mail store that
 * drops duplicates.
 *
 * @module
 */
import { createHash } from "node:crypto";
import nodemailer from "nodemailer";
import { formatElapsed } from "../elapsed.ts";
import type { Notification } from "../notification.ts";
import { type Channel, ChannelError, connectionFault } from "./channel.ts";
import type { EmailChannelConfig } from "./config.ts";

/** Long subjects are cut: mail clients show a line. */
const MAX_SUBJECT_CHARS = 200;

function emailMessage(notification: Notification) {
  const { cause } = notification;
  const tag = notification.transition === "opened" ? notification.severity : "resolved";
  const lines = [
    notification.summary,
    "",
    `Site:      ${notification.siteName} (${notification.siteId})`,
    `URL:       ${notification.url}`,
    `Incident:  ${notification.incidentId} (${notification.kind})`,
    `Opened:    ${notification.openedAt}${
      notification.openedByCheckId === null ? "" : `, by check ${notification.openedByCheckId}`
    }`,
    notification.resolvedAt === null
      ? null
      : `Resolved:  ${notification.resolvedAt}, by check ${
        notification.resolvedByCheckId ?? "-"
      } (after ${
        formatElapsed(Date.parse(notification.resolvedAt) - Date.parse(notification.openedAt))
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
 * Nodemailer's error codes in our words: its messages quote the server's replies, which may echo
 * the credentials (as they are, or in base64 as AUTH sent them).
 */
const SMTP_FAULTS: Readonly<Record<string, string>> = {
  EAUTH: "authentication failed",
  ENOAUTH: "the server asks for a user and a password",
  ETLS: "TLS could not be set up (a server on a STARTTLS port must offer it)",
  EREQUIRETLS: "the server does not support REQUIRETLS",
  EENVELOPE: "the server refused the sender or a recipient",
  EMESSAGE: "the server refused the message",
  EPROTOCOL: "the server's answer is not SMTP",
};

/** Codes without an SMTP reply that the same settings will meet again: all above but one. */
const PERMANENT_CODES = new Set(Object.keys(SMTP_FAULTS).filter((code) => code !== "EPROTOCOL"));

/**
 * Nodemailer's own timers stand behind the channel's deadline, later: were they due with it,
 * either could fire first and tell the same timeout in other words.
 */
const LIBRARY_TIMEOUT_FACTOR = 2;

/** An e-mail channel; its password never appears in an error. */
export function emailChannel(config: EmailChannelConfig): Channel {
  return {
    name: config.name,
    type: "email",
    async send(notification, options = {}) {
      const message = emailMessage(notification);
      const backstopMs = config.timeoutMs * LIBRARY_TIMEOUT_FACTOR;
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
      const timer = new AbortController();
      const timeout = setTimeout(() => timer.abort(), config.timeoutMs);
      const signal = options.signal === undefined
        ? timer.signal
        : AbortSignal.any([options.signal, timer.signal]);
      try {
        await transport.sendMail({ ...message, from: config.from, to: [...config.to], signal });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        throw failure(config, error, timer.signal.aborted);
      } finally {
        clearTimeout(timeout);
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
  const reply = typeof responseCode === "number" ? ` (SMTP ${responseCode})` : "";
  const detail = (known === null ? undefined : SMTP_FAULTS[known]) ?? connectionFault(error);
  // An SMTP reply says itself whether it is permanent (5xx) or passing (4xx).
  const permanent = typeof responseCode === "number"
    ? responseCode >= 500
    : known !== null && PERMANENT_CODES.has(known);
  const prefix = known === null || !/^E[A-Z0-9]+$/.test(known) ? "" : `${known}: `;
  return new ChannelError(config, `could not send through ${server}: ${prefix}${detail}${reply}`, {
    retryable: !permanent,
  });
}
