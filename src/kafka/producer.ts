/**
 * Publishing check results: the topic is created when missing, and results are buffered and sent
 * in batches, retried until the broker takes them, so a broker that is briefly away loses nothing.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import type { CheckResult } from "../check/result.ts";
import type { Logger } from "../log.ts";
import { backoffMs } from "./backoff.ts";
import { encodeCheckResult, type EncodedMessage } from "./codec.ts";

/** Where and how the topic is created. */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
}

/**
 * Creates the topic unless it exists. A broker that forbids creating topics (managed services
 * often do) is fine as long as the topic is there.
 *
 * @param kafka The client.
 * @param spec Topic name, partitions and replication factor.
 * @param log Where to say what happened.
 * @throws {Error} When the topic neither exists nor can be created.
 */
export async function ensureTopic(kafka: Kafka, spec: TopicSpec, log: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (existing.includes(spec.topic)) return;
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
      }],
    });
    if (created) {
      log.info("topic created", { topic: spec.topic, partitions: spec.partitions });
    }
  } finally {
    await admin.disconnect();
  }
}

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
 * Creates a publisher over a send function (in production, a kafkajs producer's `send`).
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
