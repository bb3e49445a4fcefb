/**
 * Check results on the wire: one JSON object per Kafka message, keyed by site id, with a
 * `version` field. `schema/check_result.v1.json` documents the format; a message of another version
 * is refused, to be kept aside.
 *
 * @module
 */
import { CHECK_RESULT_VERSION, type CheckResult, checkResultSchema } from "../check/result.ts";
import type { KafkaBatch } from "./batch.ts";

/** A Kafka message ready to send. */
export interface EncodedMessage {
  readonly key: string;
  readonly value: string;
}

/** A message that is not a check result this version understands, and why. */
export interface DecodeFailure {
  readonly ok: false;
  readonly reason: string;
}

/** The outcome of {@link decodeCheckResult}. */
export type Decoded = { readonly ok: true; readonly result: CheckResult } | DecodeFailure;

/**
 * Encodes a result as a Kafka message keyed by its site id, so one site's results stay in order
 * on one partition.
 *
 * @param result The result to send.
 * @returns Key and JSON value.
 *
 * @example
 * ```ts ignore
 * import { encodeCheckResult } from "./codec.ts";
 * await producer.send({ topic, messages: [encodeCheckResult(result)] });
 * ```
 */
export function encodeCheckResult(result: CheckResult): EncodedMessage {
  return { key: result.siteId, value: JSON.stringify(result) };
}

// Fatal: bytes that are not UTF-8 would otherwise be stored changed, as U+FFFD. (One decoder for
// every message: decode() without `stream` keeps no state between calls.)
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes and validates a message value. Never throws: a bad message is data, to be kept aside.
 *
 * @param value The raw message value.
 * @returns The result, or the reason it is not one.
 */
export function decodeCheckResult(value: Uint8Array | string | null): Decoded {
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
    return {
      ok: false,
      reason: `Message version ${
        JSON.stringify(version)
      } is not supported: this consumer reads version ${CHECK_RESULT_VERSION}`,
    };
  }
  const parsed = checkResultSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    return { ok: false, reason: `Message is not a valid check result: ${issues.join("; ")}` };
  }
  return { ok: true, result: parsed.data };
}

/** Where a message came from: its place on the topic and its bytes. */
export interface MessagePlace {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
}

/** A consumed message with its check result, or with the reason it is not one. */
export type DecodedMessage =
  | MessagePlace & { readonly result: CheckResult }
  | MessagePlace & { readonly reason: string };

/**
 * Decodes every message of a batch, keeping each one's place and bytes: what a store needs to
 * keep a result, or to keep aside a message that is not one.
 *
 * @param batch One partition's messages.
 * @returns One entry a message, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBatch } from "./codec.ts";
 * const [message] = decodeBatch({
 *   topic: "checks",
 *   partition: 0,
 *   messages: [{ offset: "7", key: null, value: new TextEncoder().encode("not json") }],
 *   lag: 0,
 * });
 * assert.equal(message?.offset, "7");
 * assert.match((message as { reason: string }).reason, /^Message is not JSON/);
 * ```
 */
export function decodeBatch(batch: KafkaBatch): DecodedMessage[] {
  const { topic, partition } = batch;
  return batch.messages.map(({ offset, key, value }): DecodedMessage => {
    const place = { topic, partition, offset, key, value };
    const decoded = decodeCheckResult(value);
    return decoded.ok ? { ...place, result: decoded.result } : { ...place, reason: decoded.reason };
  });
}
