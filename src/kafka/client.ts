/**
 * The cluster to talk to, from {@link Settings}: brokers, TLS (Aiven's CA and client certificate
 * files) and SASL. The client library (`@platformatic/kafka`) is this folder's business:
 * everything else holds a {@link KafkaClient} and passes it to the functions of `src/kafka/`.
 *
 * @module
 */
import type { Base, BaseOptions, SASLOptions } from "@platformatic/kafka";
import type { Settings } from "../config/settings.ts";
import { readPem } from "../config/pem.ts";
import { backoffMs } from "./backoff.ts";
import type { Logger } from "../log.ts";

type KafkaSettings = Settings["kafka"];

/** The key under which a {@link KafkaClient} holds what the library needs; unknown outside. */
const LIBRARY = Symbol("kafka client library");

/** What every producer, consumer and admin client of the library is made with. */
export interface ClientSetup {
  /** Brokers, client id, TLS, SASL, timeouts and retries, as the library takes them. */
  readonly options: Readonly<BaseOptions>;
  /** Where the library's events worth a line go. */
  readonly log: Logger;
}

/**
 * A Kafka cluster with its connection settings settled; nothing is connected until a function of
 * `src/kafka/` uses it. Opaque outside `src/kafka/`, so that the client library can change
 * without its users noticing.
 */
export interface KafkaClient {
  readonly [LIBRARY]: ClientSetup;
}

/**
 * Creates the client. Reads the TLS files now, so a wrong path fails before anything starts.
 *
 * @param settings The `kafka` part of the settings.
 * @param log Where the client's messages go.
 * @returns A client; nothing is connected yet.
 * @throws {UsageError} When a TLS file cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSettings } from "../config/settings.ts";
 * import { SILENT } from "../log.ts";
 * import { createKafka, setupOf } from "./client.ts";
 * const kafka = createKafka(readSettings({ KAFKA_BROKERS: "broker:9093" }).kafka, SILENT);
 * assert.deepEqual(setupOf(kafka).options.bootstrapBrokers, ["broker:9093"]);
 * ```
 */
export function createKafka(settings: KafkaSettings, log: Logger): KafkaClient {
  return { [LIBRARY]: { options: libraryOptions(settings), log } };
}

/**
 * What a {@link KafkaClient} holds: for the modules of `src/kafka/` only, which alone know the
 * library.
 *
 * @param client From {@link createKafka}.
 * @returns The library's options and the logger.
 *
 * @example
 * ```ts ignore
 * import { Admin } from "@platformatic/kafka";
 * import { setupOf } from "./client.ts";
 * const admin = new Admin(setupOf(kafka).options);
 * ```
 */
export function setupOf(client: KafkaClient): ClientSetup {
  return client[LIBRARY];
}

/**
 * Logs what a client of the library says of its brokers that is worth a line: a broker it could
 * not connect to (it tries again), and, at debug level, its connections.
 *
 * @param client A producer, consumer or admin client of the library.
 * @param log Where the lines go.
 *
 * @example
 * ```ts ignore
 * import { Producer } from "@platformatic/kafka";
 * import { logBrokerEvents, setupOf } from "./client.ts";
 * const producer = new Producer(setupOf(kafka).options);
 * logBrokerEvents(producer, setupOf(kafka).log);
 * ```
 */
export function logBrokerEvents(client: Base, log: Logger): void {
  const where = ({ broker }: { broker: { host: string; port: number } }) => ({
    broker: `${broker.host}:${broker.port}`,
  });
  client.on(
    "client:broker:failed",
    (event) => log.warn("kafka: cannot connect to broker", where(event)),
  );
  client.on(
    "client:broker:connect",
    (event) => log.debug("kafka: connected to broker", where(event)),
  );
  client.on("client:broker:disconnect", (event) => {
    log.debug("kafka: disconnected from broker", where(event));
  });
}

function libraryOptions(settings: KafkaSettings): BaseOptions {
  const { tls, sasl } = settings;
  return {
    clientId: settings.clientId,
    bootstrapBrokers: [...settings.brokers],
    connectTimeout: 10_000,
    // How long a broker may take to answer a request (and to gather acknowledgements of a send
    // from every in-sync replica), as kafkajs had it.
    timeout: 30_000,
    // Retries of one request (a producer and a group consumer retry without limit instead). They
    // nest (a request first asks which versions the broker speaks, itself retried): a few only, so
    // that a command that cannot connect says so within seconds.
    retries: 3,
    // 300 ms doubling to 5 s: a broker that comes back is noticed within seconds.
    retryDelay: (_client, _operation, attempt) =>
      backoffMs(attempt, { firstMs: 300, maxMs: 5_000 }),
    ...(tls === null ? {} : {
      tls: {
        rejectUnauthorized: tls.rejectUnauthorized,
        ...(tls.caFile === undefined ? {} : { ca: [readPem("KAFKA_SSL_CA_FILE", tls.caFile)] }),
        ...(tls.certFile === undefined
          ? {}
          : { cert: readPem("KAFKA_SSL_CERT_FILE", tls.certFile) }),
        ...(tls.keyFile === undefined ? {} : { key: readPem("KAFKA_SSL_KEY_FILE", tls.keyFile) }),
      },
    }),
    ...(sasl === null ? {} : {
      sasl: {
        mechanism: sasl.mechanism.toUpperCase() as SASLOptions["mechanism"],
        username: sasl.username,
        password: sasl.password,
      },
    }),
  };
}
