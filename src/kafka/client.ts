/**
 * The cluster to talk to, from {@link Settings}: brokers, TLS and SASL. The client library is this
 * folder's business: everything else holds an opaque {@link KafkaClient}.
 *
 * @module
 */
import type { Base, BaseOptions, SASLOptions } from "@platformatic/kafka";
import { readPem, type Settings } from "../config/settings.ts";
import { backoffMs } from "../backoff.ts";
import type { Logger } from "../log.ts";

const LIBRARY = Symbol("kafka client library");

/** A cluster with its connection settings settled; nothing is connected until it is used. */
export interface KafkaClient {
  readonly [LIBRARY]: { readonly options: Readonly<BaseOptions>; readonly log: Logger };
}

/** Creates the client, reading the TLS files now: a UsageError when one cannot be read. */
export function createKafka(settings: Settings["kafka"], log: Logger): KafkaClient {
  const { tls, sasl } = settings;
  const options: BaseOptions = {
    clientId: settings.clientId,
    bootstrapBrokers: [...settings.brokers],
    connectTimeout: 10_000,
    // Also bounds gathering the acknowledgements of a send from every in-sync replica.
    timeout: 30_000,
    // Of one request (producers and group members: no limit). Retries nest (a request first asks
    // the broker's versions), so a few only: a command that cannot connect says so within seconds.
    retries: 3,
    retryDelay: (_client, _operation, attempt) =>
      backoffMs(attempt, { firstMs: 300, maxMs: 5_000 }),
    ...(tls === null ? {} : {
      tls: {
        rejectUnauthorized: tls.rejectUnauthorized,
        ca: tls.caFile === undefined ? undefined : [readPem("KAFKA_SSL_CA_FILE", tls.caFile)],
        cert: tls.certFile === undefined ? undefined : readPem("KAFKA_SSL_CERT_FILE", tls.certFile),
        key: tls.keyFile === undefined ? undefined : readPem("KAFKA_SSL_KEY_FILE", tls.keyFile),
      },
    }),
    ...(sasl === null ? {} : {
      sasl: { ...sasl, mechanism: sasl.mechanism.toUpperCase() as SASLOptions["mechanism"] },
    }),
  };
  return { [LIBRARY]: { options, log } };
}

/** What a {@link KafkaClient} holds: for `src/kafka/` (and tests) only, which alone know the library. */
export function setupOf(client: KafkaClient): KafkaClient[typeof LIBRARY] {
  return client[LIBRARY];
}

/** Logs a broker a client could not connect to (it tries again), and, at debug, its connections. */
export function logBrokerEvents(client: Base, log: Logger): void {
  const where = ({ broker }: { broker: { host: string; port: number } }) => ({
    broker: `${broker.host}:${broker.port}`,
  });
  client.on("client:broker:failed", (e) => log.warn("kafka: cannot connect to broker", where(e)));
  client.on("client:broker:connect", (e) => log.debug("kafka: connected to broker", where(e)));
  client.on("client:broker:disconnect", (e) => {
    log.debug("kafka: disconnected from broker", where(e));
  });
}
