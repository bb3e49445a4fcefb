/**
 * Publishing check results with the guarantees we promise: an idempotent producer whose sends are
 * acknowledged by every in-sync replica, and results buffered (up to a bound) and sent in batches,
 * retried until the broker takes them, so a broker that is briefly away loses nothing.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  compatibilityPartitioner,
  CompressionAlgorithms,
  type MessageToProduce,
  ProduceAcks,
  Producer,
} from "@platformatic/kafka";
import type { CheckResult } from "../check/result.ts";
import type { Logger } from "../log.ts";
import { backoffMs, settledWithin } from "./backoff.ts";
import { type KafkaClient, logBrokerEvents, setupOf } from "./client.ts";
import { encodeCheckResult, type EncodedMessage } from "./codec.ts";
import { describeKafkaError } from "./errors.ts";

/** Bounds of a {@link Publisher}. */
export interface PublisherOptions {
  readonly log: Logger;
  /** Most messages per send. */
  readonly maxBatchSize?: number;
  /** Most messages held while the broker is unreachable; beyond it the oldest are dropped and counted. */
  readonly maxBufferedMessages?: number;
  /** Wait before retry number `failures`; defaults to exponential backoff from 0.5 s to 30 s. */
  readonly retryDelayMs?: (failures: number) => number;
}

/** Counters of a {@link Publisher}. */
export interface PublisherStats {
  readonly sent: number;
  readonly buffered: number;
  readonly dropped: number;
  readonly failedSends: number;
}

/** Buffers results and sends them in order. */
export interface Publisher {
  /** Queues a result; returns at once. */
  publish(result: CheckResult): void;
  /** Resolves when everything queued so far has been sent. */
  flush(): Promise<void>;
  /**
   * Sends what is left, giving up after `timeoutMs` (the unsent are counted as dropped and logged).
   * @param timeoutMs How long to keep trying.
   */
  close(timeoutMs: number): Promise<void>;
  stats(): PublisherStats;
}

/**
 * Creates a publisher over a send function ({@link openPublisher} gives it the producer's).
 *
 * @param send Sends one batch; rejects when the broker did not take it.
 * @param options Bounds and logger.
 * @returns The publisher.
 *
 * @example
 * ```ts ignore
 * import { createPublisher } from "./producer.ts";
 * const publisher = createPublisher((messages) => producer.send({ topic, messages, acks: -1 }).then(() => {}), { log });
 * publisher.publish(result);
 * await publisher.close(30_000);
 * ```
 */
export function createPublisher(
  send: (messages: EncodedMessage[]) => Promise<void>,
  options: PublisherOptions,
): Publisher {
  const { log } = options;
  const maxBatchSize = options.maxBatchSize ?? 500;
  const maxBuffered = options.maxBufferedMessages ?? 100_000;
  const retryDelayMs = options.retryDelayMs ?? backoffMs;
  const buffer: EncodedMessage[] = [];
  const counts = { sent: 0, dropped: 0, failedSends: 0 };
  let sending: Promise<void> | null = null;
  /** How many messages of the batch being sent are still at the front of `buffer`. */
  let inFlight = 0;
  let giveUp = false;
  let wake: (() => void) | undefined;

  /** A pause that {@link Publisher.close} can cut short. */
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function sendAll(): Promise<void> {
    let failures = 0;
    while (buffer.length > 0 && !giveUp) {
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
        failures++;
        const delayMs = retryDelayMs(failures);
        log.warn("kafka publish failed, retrying", {
          error: describeKafkaError(error),
          buffered: buffer.length,
          retryInMs: delayMs,
        });
        if (!giveUp) await pause(delayMs);
      }
    }
  }

  function startSending(): Promise<void> {
    sending ??= sendAll().finally(() => {
      sending = null;
      if (buffer.length > 0 && !giveUp) startSending();
    });
    return sending;
  }

  return {
    publish(result) {
      buffer.push(encodeCheckResult(result));
      const excess = buffer.length - maxBuffered;
      if (excess > 0) {
        buffer.splice(0, excess);
        inFlight -= Math.min(excess, inFlight);
        counts.dropped += excess;
        log.error("publish buffer full, oldest results dropped", { dropped: counts.dropped });
      }
      startSending();
    },
    async flush() {
      while (buffer.length > 0 && !giveUp) await startSending();
    },
    async close(timeoutMs) {
      await settledWithin(this.flush(), timeoutMs);
      giveUp = true;
      wake?.();
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

/** Options of {@link openPublisher}. */
export interface OpenPublisherOptions extends PublisherOptions {
  /** Where the results go; it must exist (see `ensureTopic`). */
  readonly topic: string;
  /** Told after each batch the broker took, with how long sending it took. */
  readonly onSent?: (sendMs: number) => void;
}

/** How long closing the producer may take once the publisher has given up: it only disconnects. */
const DISCONNECT_TIMEOUT_MS = 2_000;

/**
 * A producer whose sends the broker stores once each, in order, with the partition of each key as
 * Java's client chooses it. The broker discards a batch it already has when the producer retries a
 * send (acks from all in-sync replicas, one request in flight per connection, as the library sets
 * for an idempotent producer). JSON compresses well: less to send to a managed broker, and less for
 * it to store. Topics are never created by a send (see `ensureTopic`).
 *
 * @param kafka The cluster.
 * @param options Settings of the library's producer to add (retries, say).
 * @returns The producer, not connected yet; close it when done.
 *
 * @example
 * ```ts ignore
 * import { idempotentProducer } from "./producer.ts";
 * const producer = idempotentProducer(kafka, { retries: Number.MAX_SAFE_INTEGER });
 * ```
 */
export function idempotentProducer(
  kafka: KafkaClient,
  options: { readonly retries?: number } = {},
): Producer<Buffer, Buffer, Buffer, Buffer> {
  return new Producer({
    ...setupOf(kafka).options,
    idempotent: true,
    acks: ProduceAcks.ALL,
    maxInflights: 1,
    compression: CompressionAlgorithms.GZIP,
    partitioner: keyPartitioner,
    autocreateTopics: false,
    ...options,
  });
}

/**
 * Opens an idempotent producer for the topic and returns a {@link Publisher} over it; its `close`
 * also disconnects the producer. It connects with the first send.
 *
 * @param kafka The cluster.
 * @param options Topic, bounds, logger and what to tell after each send.
 * @returns The publisher.
 *
 * @example
 * ```ts ignore
 * import { openPublisher } from "./producer.ts";
 * const publisher = await openPublisher(kafka, { topic: "checks", log });
 * publisher.publish(result);
 * await publisher.close(30_000);
 * ```
 */
export function openPublisher(
  kafka: KafkaClient,
  options: OpenPublisherOptions,
): Promise<Publisher> {
  const { topic, onSent } = options;
  // Sends are retried without limit; the publisher bounds what waits meanwhile.
  const producer = idempotentProducer(kafka, { retries: Number.MAX_SAFE_INTEGER });
  logBrokerEvents(producer, options.log);
  const publisher = createPublisher(async (messages) => {
    const startedMs = performance.now();
    await producer.send({ messages: messages.map((message) => recordOf(topic, message)) });
    onSent?.(performance.now() - startedMs);
  }, options);
  return Promise.resolve({
    ...publisher,
    async close(timeoutMs) {
      await publisher.close(timeoutMs);
      // A send to an unreachable broker may still be trying to connect: closing ends it, but
      // waits for the socket at most this long.
      await settledWithin(producer.close(), DISCONNECT_TIMEOUT_MS);
    },
  });
}

/**
 * The partition of a message by its key, before the modulo by the number of partitions: Java's
 * (and kafkajs's) murmur2 of the key's bytes, made positive, so a site's results stay on the
 * partition they were on with kafkajs and per-site order holds across the upgrade. A message
 * without a key goes to partition 0.
 *
 * @param message The message (unused).
 * @param key The key's bytes.
 * @returns A number the library reduces modulo the number of partitions.
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
export function keyPartitioner(
  message: MessageToProduce,
  key: Buffer | undefined,
): number {
  return compatibilityPartitioner(message, key);
}

function recordOf(topic: string, { key, value }: EncodedMessage): MessageToProduce {
  return { topic, key: Buffer.from(key), value: Buffer.from(value) };
}
