/**
 * Publishing check results: buffered (up to a bound), sent in batches by an idempotent producer
 * and retried until the broker takes them, so a broker that is briefly away loses nothing.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { compatibilityPartitioner, CompressionAlgorithms, Producer } from "@platformatic/kafka";
import type { CheckResult } from "../check/result.ts";
import type { Logger } from "../log.ts";
import { backoffMs, settledWithin, sleep } from "../backoff.ts";
import { type KafkaClient, logBrokerEvents, setupOf } from "./client.ts";
import { encodeCheckResult, type EncodedMessage } from "./codec.ts";
import { describeKafkaError } from "./errors.ts";

/** Bounds of a {@link Publisher}. */
export interface PublisherOptions {
  readonly log: Logger;
  /** Most messages per send; defaults to 500. */
  readonly maxBatchSize?: number;
  /** Most messages held while the broker is unreachable; beyond it the oldest are dropped and counted. */
  readonly maxBufferedMessages?: number;
  /** Wait before retry number `failures`; defaults to {@link backoffMs}. */
  readonly retryDelayMs?: (failures: number) => number;
}

/** Buffers results and sends them in order. */
export interface Publisher {
  /** Queues a result; returns at once. */
  publish(result: CheckResult): void;
  /** Resolves when everything queued so far has been sent. */
  flush(): Promise<void>;
  /** Sends what is left, giving up after `timeoutMs` (the unsent are counted as dropped and logged). */
  close(timeoutMs: number): Promise<void>;
  stats(): { sent: number; buffered: number; dropped: number; failedSends: number };
}

/** A publisher over `send`, which rejects when the broker did not take the batch. */
export function createPublisher(
  send: (messages: EncodedMessage[]) => Promise<void>,
  options: PublisherOptions,
): Publisher {
  const { log, maxBatchSize = 500, maxBufferedMessages = 100_000 } = options;
  const retryDelayMs = options.retryDelayMs ?? backoffMs;
  const buffer: EncodedMessage[] = [];
  const counts = { sent: 0, dropped: 0, failedSends: 0 };
  let sending: Promise<void> | null = null;
  /** How many messages of the batch being sent are still at the front of `buffer`. */
  let inFlight = 0;
  const closing = new AbortController();

  async function sendAll(): Promise<void> {
    let failures = 0;
    while (buffer.length > 0 && !closing.signal.aborted) {
      const batch = buffer.slice(0, maxBatchSize);
      inFlight = batch.length;
      try {
        await send(batch);
        // The buffer may have overflowed meanwhile, dropping some of this batch from its front:
        // remove only what is left of it, and count the dropped ones as sent after all.
        buffer.splice(0, inFlight);
        counts.sent += batch.length;
        counts.dropped -= batch.length - inFlight;
        inFlight = 0;
        if (failures > 0) log.info("kafka publishing resumed", { buffered: buffer.length });
        failures = 0;
      } catch (error) {
        inFlight = 0;
        counts.failedSends++;
        const delayMs = retryDelayMs(++failures);
        log.warn("kafka publish failed, retrying", {
          error: describeKafkaError(error),
          buffered: buffer.length,
          retryInMs: delayMs,
        });
        await sleep(delayMs, closing.signal);
      }
    }
  }

  function startSending(): Promise<void> {
    sending ??= sendAll().finally(() => {
      sending = null;
      if (buffer.length > 0 && !closing.signal.aborted) startSending();
    });
    return sending;
  }

  return {
    publish(result) {
      buffer.push(encodeCheckResult(result));
      const excess = buffer.length - maxBufferedMessages;
      if (excess > 0) {
        buffer.splice(0, excess);
        inFlight -= Math.min(excess, inFlight);
        counts.dropped += excess;
        log.error("publish buffer full, oldest results dropped", { dropped: counts.dropped });
      }
      startSending();
    },
    async flush() {
      while (buffer.length > 0 && !closing.signal.aborted) await startSending();
    },
    async close(timeoutMs) {
      await settledWithin(this.flush(), timeoutMs);
      closing.abort();
      // A send to an unreachable broker may never settle: it is abandoned, and what it carried
      // is counted with the rest as not published.
      if (sending !== null) await settledWithin(sending, 100);
      if (buffer.length > 0) {
        counts.dropped += buffer.length;
        log.error("results not published before shutdown", { lost: buffer.length });
        buffer.length = 0;
        inFlight = 0;
      }
    },
    stats: () => ({ ...counts, buffered: buffer.length }),
  };
}

/**
 * A producer whose sends the broker stores once each, in order: idempotent (so the library sets
 * acks from all in-sync replicas and one request in flight), and the broker discards a batch it
 * already has when the library retries it. Topics are never created by a send (see `ensureTopic`).
 */
export function idempotentProducer(
  kafka: KafkaClient,
  options: { readonly retries?: number } = {},
): Producer<Buffer, Buffer, Buffer, Buffer> {
  return new Producer({
    ...setupOf(kafka).options,
    idempotent: true,
    // JSON compresses well: less to send to a managed broker, and less for it to store.
    compression: CompressionAlgorithms.GZIP,
    partitioner: keyPartitioner,
    autocreateTopics: false,
    ...options,
  });
}

/** A {@link Publisher} to the topic (which must exist), telling `onSent` each send's duration. */
export function openPublisher(
  kafka: KafkaClient,
  options: PublisherOptions & {
    readonly topic: string;
    readonly onSent?: (sendMs: number) => void;
  },
): Promise<Publisher> {
  const { topic, onSent } = options;
  // Sends are retried without limit; the publisher bounds what waits meanwhile.
  const producer = idempotentProducer(kafka, { retries: Number.MAX_SAFE_INTEGER });
  logBrokerEvents(producer, options.log);
  const publisher = createPublisher(async (messages) => {
    const startedMs = performance.now();
    await producer.send({
      messages: messages.map(({ key, value }) => ({
        topic,
        key: Buffer.from(key),
        value: Buffer.from(value),
      })),
    });
    onSent?.(performance.now() - startedMs);
  }, options);
  return Promise.resolve({
    ...publisher,
    async close(timeoutMs) {
      await publisher.close(timeoutMs);
      // A send may still be trying to connect: closing ends it, but waits for the socket.
      await settledWithin(producer.close(), 2_000);
    },
  });
}

/**
 * The partition of a message by its key, before the modulo: Java's murmur2 of the key's bytes,
 * made positive, so any Kafka client agrees where a site's results go.
 *
 * @example Kafka's own test vectors (`UtilsTest.testMurmur2`), made positive
 * ```ts
 * import assert from "node:assert/strict";
 * import { Buffer } from "node:buffer";
 * import { keyPartitioner } from "./producer.ts";
 * const java = { "21": -973932308, foobar: -790332482, "a-little-bit-long-string": -985981536 };
 * for (const [key, hash] of Object.entries(java)) {
 *   assert.equal(keyPartitioner({ topic: "checks" }, Buffer.from(key)), hash & 0x7fffffff);
 * }
 * ```
 */
export const keyPartitioner = compatibilityPartitioner;
