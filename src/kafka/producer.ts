/**
 * Publishing check results with the guarantees we promise: an idempotent producer whose sends are
 * acknowledged by every in-sync replica, and results buffered (up to a bound) and sent in batches,
 * retried until the broker takes them, so a broker that is briefly away loses nothing.
 *
 * @module
 */
import { CompressionTypes, Partitioners } from "kafkajs";
import type { CheckResult } from "../check/result.ts";
import type { Logger } from "../log.ts";
import { backoffMs } from "./backoff.ts";
import { type KafkaClient, kafkajsOf } from "./client.ts";
import { encodeCheckResult, type EncodedMessage } from "./codec.ts";

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
          error: (error as Error).message,
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
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
      await Promise.race([this.flush(), deadline]);
      clearTimeout(timer);
      giveUp = true;
      wake?.();
      // A send to an unreachable broker may never settle: it is abandoned, and what it carried
      // is counted with the rest as not published.
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([sending, new Promise((resolve) => grace = setTimeout(resolve, 100))]);
      clearTimeout(grace);
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

/**
 * Connects an idempotent producer to the topic and returns a {@link Publisher} over it; its
 * `close` also disconnects the producer.
 *
 * @param kafka The cluster.
 * @param options Topic, bounds, logger and what to tell after each send.
 * @returns The publisher, connected.
 * @throws {Error} When the producer cannot connect.
 *
 * @example
 * ```ts ignore
 * import { openPublisher } from "./producer.ts";
 * const publisher = await openPublisher(kafka, { topic: "checks", log });
 * publisher.publish(result);
 * await publisher.close(30_000);
 * ```
 */
export async function openPublisher(
  kafka: KafkaClient,
  options: OpenPublisherOptions,
): Promise<Publisher> {
  const { topic, onSent } = options;
  const producer = kafkajsOf(kafka).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    // The broker discards a batch it already has when kafkajs retries a send (acks from all
    // in-sync replicas): no duplicates before the database's own de-duplication. kafkajs then
    // retries without limit; the publisher bounds what waits meanwhile.
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const publisher = createPublisher(async (messages) => {
    const startedMs = performance.now();
    // JSON results compress well; less to send to a managed broker, and less for it to store.
    await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.GZIP });
    onSent?.(performance.now() - startedMs);
  }, options);
  return {
    ...publisher,
    async close(timeoutMs) {
      await publisher.close(timeoutMs);
      await producer.disconnect();
    },
  };
}
