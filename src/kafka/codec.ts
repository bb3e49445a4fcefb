/**
 * Check results on the wire: one JSON object per message, keyed by site id, with a `version`
 * field (`schema/check_result.v1.json`).
 *
 * @module
 */
import { CHECK_RESULT_VERSION, type CheckResult, checkResultSchema } from "../check/result.ts";
import { issueLine } from "../text.ts";
import type { KafkaBatch, KafkaMessage } from "./consumer.ts";

/** A Kafka message ready to send. */
export interface EncodedMessage {
  readonly key: string;
  readonly value: string;
}

/** Encodes a result keyed by its site id, so one site's results stay in order on one partition. */
export function encodeCheckResult(result: CheckResult): EncodedMessage {
  return { key: result.siteId, value: JSON.stringify(result) };
}

// Fatal: bytes that are not UTF-8 would otherwise be stored changed, as U+FFFD.
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes and validates a message value; never throws: a bad message is data, kept aside. */
export function decodeCheckResult(
  value: Uint8Array | string | null,
): { ok: true; result: CheckResult } | { ok: false; reason: string } {
  if (value === null) return { ok: false, reason: "Message has no value" };
  let text: string;
  try {
    text = typeof value === "string" ? value : UTF8.decode(value);
  } catch {
    return { ok: false, reason: "Message is not UTF-8 text" };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `Message is not JSON: ${(error as Error).message}` };
  }
  const version = (data as { version?: unknown } | null)?.version;
  if (version !== CHECK_RESULT_VERSION) {
    const reason = `Message version ${JSON.stringify(version)} is not supported`;
    return { ok: false, reason: `${reason}: this consumer reads version ${CHECK_RESULT_VERSION}` };
  }
  const parsed = checkResultSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(issueLine).join("; ");
    return { ok: false, reason: `Message is not a valid check result: ${issues}` };
  }
  return { ok: true, result: parsed.data };
}

/** A consumed message, where it came from, with its check result or the reason it is not one. */
export type DecodedMessage =
  & KafkaMessage
  & { readonly topic: string; readonly partition: number }
  & ({ readonly result: CheckResult } | { readonly reason: string });

/** Decodes every message of a batch, keeping each one's place and bytes. */
export function decodeBatch({ topic, partition, messages }: KafkaBatch): DecodedMessage[] {
  return messages.map(({ offset, key, value }) => {
    const place = { topic, partition, offset, key, value };
    const decoded = decodeCheckResult(value);
    return decoded.ok ? { ...place, result: decoded.result } : { ...place, reason: decoded.reason };
  });
}
