/**
 * Publishing check results: buffered (up to a bound), sent in batches by an idempotent producer
 * and retried until the broker takes them, so a broker briefly away loses nothing.
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
  /** Most messages held; beyond it the oldest are dropped and counted. */
  readonly maxBufferedMessages?: number;
  readonly retryDelayMs?: (failures: number) => number;
}

/** Buffers results and sends them in order. */
export type Publisher = ReturnType<typeof createPublisher>;

/** A publisher over `send`, which rejects when the broker did not take the batch. */
export function createPublisher(
  send: (messages: EncodedMessage[]) => Promise<void>,
  options: PublisherOptions,
) {
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
        // An overflow meanwhile dropped the front of this batch: count those as sent after all.
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
    publish(result: CheckResult): void {
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
    /** Resolves when everything queued so far has been sent. */
    async flush(): Promise<void> {
      while (buffer.length > 0 && !closing.signal.aborted) await startSending();
    },
    /** Sends what is left, giving up after `timeoutMs` (the unsent are counted as dropped and logged). */
    async close(timeoutMs: number): Promise<void> {
      await settledWithin(this.flush(), timeoutMs);
      closing.abort();
      // A send to an unreachable broker may never settle: what it carried counts as not published.
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

/** An idempotent producer (sends stored once each, in order) that never creates a topic. */
export function idempotentProducer(
  kafka: KafkaClient,
  options: { readonly retries?: number } = {},
): Producer<Buffer, Buffer, Buffer, Buffer> {
  const producer = new Producer({
    ...setupOf(kafka).options,
    idempotent: true,
    // JSON compresses well: less to send to a managed broker, and less for it to store.
    compression: CompressionAlgorithms.GZIP,
    partitioner: keyPartitioner,
    autocreateTopics: false,
    ...options,
  });
  logBrokerEvents(producer, setupOf(kafka).log);
  return producer;
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
 */
export const keyPartitioner = compatibilityPartitioner;
