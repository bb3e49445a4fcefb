/**
 * The cluster to talk to, from {@link Settings}: brokers, TLS (Aiven's CA and client certificate
 * files) and SASL, with the client library's own log lines routed to our {@link Logger}. The
 * library (kafkajs today) is this folder's business: everything else holds a {@link KafkaClient}
 * and passes it to the functions of `src/kafka/`.
 *
 * @module
 */
import { Kafka, logLevel as KafkaLogLevel, type SASLOptions } from "kafkajs";
import type { Settings } from "../config/settings.ts";
import { readPem } from "../config/pem.ts";
import type { Logger } from "../log.ts";
// Every client this module makes runs with the fixed request queue (see that module).
import "./request_queue_fix.ts";

type KafkaSettings = Settings["kafka"];

/** The key under which a {@link KafkaClient} holds the library's client; unknown outside. */
const LIBRARY = Symbol("kafka client library");

/**
 * A Kafka cluster with its connection settings settled; nothing is connected until a function of
 * `src/kafka/` uses it. Opaque outside `src/kafka/`, so that the client library can change
 * without its users noticing.
 */
export interface KafkaClient {
  readonly [LIBRARY]: Kafka;
}

/**
 * Creates the client. Reads the TLS files now, so a wrong path fails before anything starts.
 *
 * @param settings The `kafka` part of the settings.
 * @param log Where the client library's messages go.
 * @returns A client; nothing is connected yet.
 * @throws {UsageError} When a TLS file cannot be read.
 *
 * @example
 * ```ts ignore
 * import { createKafka } from "./client.ts";
 * const kafka = createKafka(readSettings(Deno.env.toObject()).kafka, log);
 * ```
 */
export function createKafka(settings: KafkaSettings, log: Logger): KafkaClient {
  return { [LIBRARY]: kafkajsClient(settings, log) };
}

/**
 * The kafkajs client inside a {@link KafkaClient}: for the modules of `src/kafka/` only (and the
 * test of the kafkajs patch), which alone know the library.
 *
 * @param client From {@link createKafka}.
 * @returns The kafkajs client.
 *
 * @example
 * ```ts ignore
 * import { createKafka, kafkajsOf } from "./client.ts";
 * const admin = kafkajsOf(createKafka(settings.kafka, log)).admin();
 * ```
 */
export function kafkajsOf(client: KafkaClient): Kafka {
  return client[LIBRARY];
}

function kafkajsClient(settings: KafkaSettings, log: Logger): Kafka {
  const { tls, sasl } = settings;
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    connectionTimeout: 10_000,
    // Back off to at most 5 s between attempts (kafkajs: 30 s), so that a broker that comes back
    // is noticed within seconds.
    retry: { initialRetryTime: 300, maxRetryTime: 5_000 },
    ssl: tls === null ? false : {
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.caFile === undefined ? {} : { ca: [readPem("KAFKA_SSL_CA_FILE", tls.caFile)] }),
      ...(tls.certFile === undefined ? {} : { cert: readPem("KAFKA_SSL_CERT_FILE", tls.certFile) }),
      ...(tls.keyFile === undefined ? {} : { key: readPem("KAFKA_SSL_KEY_FILE", tls.keyFile) }),
    },
    ...(sasl === null ? {} : { sasl: sasl as SASLOptions }),
    logLevel: KafkaLogLevel.INFO,
    logCreator: () => ({ level, log: entry }) => {
      const { message, ...fields } = entry;
      const text = `kafka: ${message}`;
      const safe = {
        broker: str(fields.broker),
        error: str(fields.error),
        groupId: str(fields.groupId),
      };
      // kafkajs logs retriable hiccups (a coordinator still starting) as errors; failures that
      // matter reach us as exceptions and are reported there, so its own lines are warnings.
      if (level <= KafkaLogLevel.WARN) log.warn(text, safe);
      else log.debug(text, safe);
    },
  });
}

function str(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}
