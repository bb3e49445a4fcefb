/**
 * Connecting to Kafka and PostgreSQL, turning "cannot connect" into a {@link ServiceError} that
 * says where (without credentials) and what to do; waiting for them in long-running commands.
 *
 * @module
 */
import { redactUri, type Settings } from "../config/settings.ts";
import { connectDatabase, pingDatabase, type Sql } from "../db/client.ts";
import { loadMigrations, migrate, requireMigrated } from "../db/migrate.ts";
import { ServiceError } from "../errors.ts";
import { ensureTopic } from "../kafka/admin.ts";
import { createKafka, type KafkaClient } from "../kafka/client.ts";
import { backoffMs, sleep } from "../backoff.ts";
import { describeKafkaError } from "../kafka/errors.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { type CliContext, prepare } from "./context.ts";
import { type Health, observe, type ServiceName } from "./observe.ts";

const LOCAL_HINT = 'start the local services with "deno task services:start", or point';
const TLS_PROBLEM = /certificate|self[- ]signed|altnames|does not match|ssl|tls|handshake/i;
const AUTH_PROBLEM = /sasl|authentication|password/i;
const CLOSED = /connection closed/i;

function kafkaHint(message: string, kafka: Settings["kafka"]): string {
  if (AUTH_PROBLEM.test(message)) {
    return "check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (Aiven: the SASL port's user and password)";
  }
  // A broker that wants a client certificate ends the connection right after the handshake.
  if (CLOSED.test(message) && kafka.tls !== null && kafka.tls.certFile === undefined) {
    return "the broker closed the connection after the TLS handshake: if it requires a client certificate, set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE (Aiven: the service's service.cert and service.key)";
  }
  if (/requires TLS/i.test(message) && kafka.tls === null) {
    return "set KAFKA_SSL=true, or KAFKA_SSL_CA_FILE to the CA that signed the brokers' certificates";
  }
  if (TLS_PROBLEM.test(message)) {
    return "check that KAFKA_SSL_CA_FILE is the CA that signed the brokers' certificates (Aiven: the service's ca.pem), that KAFKA_BROKERS names the hosts on those certificates, and the client certificate and key";
  }
  return `${LOCAL_HINT} KAFKA_BROKERS at a running broker`;
}

function databaseHint(message: string): string {
  if (TLS_PROBLEM.test(message)) {
    return "check sslmode in DATABASE_URL and DATABASE_CA_FILE (Aiven: the service's CA certificate); verify-full needs the host name on the server's certificate";
  }
  if (AUTH_PROBLEM.test(message)) return "check the user and password in DATABASE_URL";
  return `${LOCAL_HINT} DATABASE_URL at a running server`;
}

/** Creates the Kafka client and makes sure the topic exists, or throws a {@link ServiceError}. */
export async function openKafka(settings: Settings, log: Logger): Promise<KafkaClient> {
  const kafka = createKafka(settings.kafka, log);
  try {
    await ensureTopic(kafka, {
      topic: settings.kafka.topic,
      partitions: settings.kafka.topicPartitions,
      replicationFactor: settings.kafka.topicReplicationFactor,
    }, log);
  } catch (error) {
    const message = describeKafkaError(error);
    throw new ServiceError(
      `Cannot use Kafka at "${settings.kafka.brokers.join(",")}": ${message}: ${
        kafkaHint(message, settings.kafka)
      }`,
    );
  }
  return kafka;
}

/** Opens the database pool and checks that it answers; a {@link ServiceError} if it does not. */
export async function openDatabase(
  settings: Settings,
  options: Parameters<typeof connectDatabase>[1] = {},
): Promise<Sql> {
  const sql = connectDatabase(settings.database, options);
  try {
    await pingDatabase(sql);
  } catch (error) {
    await sql.end({ timeout: 1 });
    const message = (error as Error).message;
    throw new ServiceError(
      `Cannot use PostgreSQL at "${redactUri(settings.database.url)}": ${message}: ${
        databaseHint(message)
      }`,
    );
  }
  return sql;
}

/**
 * Opens a service for a long-running command, trying again with backoff while it is unreachable
 * (a {@link ServiceError}, which `health` is told), so that `produce` and `consume` may start
 * before Kafka or PostgreSQL.
 *
 * @returns What `open` returned, or `undefined` when the signal stopped the waiting.
 */
export async function openWhenAvailable<T>(
  service: ServiceName,
  open: () => Promise<T>,
  options: { readonly log: Logger; readonly signal: AbortSignal; readonly health: Health },
): Promise<T | undefined> {
  for (let failures = 1; !options.signal.aborted; failures++) {
    try {
      return await open();
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      options.health.unreachable(service, error.message);
      const retryInMs = backoffMs(failures);
      options.log.warn(`${error.message}; trying again`, { retryInMs });
      await sleep(retryInMs, options.signal);
    }
  }
  options.log.info("stopped before the services were reachable");
  return undefined;
}

/** What a long-running reader of the results topic works with, until the signal is aborted. */
export interface Services {
  readonly settings: Settings;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly sql: Sql;
  readonly kafka: KafkaClient;
  readonly metrics: Metrics;
}

/**
 * Opens PostgreSQL, migrated (or `migrate` it), and Kafka, runs `fn`, and closes everything; serves
 * the metrics and health meanwhile. Unreachable services are waited for, unless `failFast`.
 */
export async function withServices(
  context: CliContext,
  fn: (services: Services) => Promise<void>,
  options: { readonly migrate?: boolean; readonly failFast?: boolean } = {},
): Promise<void> {
  const { settings, log } = prepare(context);
  const { signal } = context;
  const observation = observe(settings, ["kafka", "database"], log);
  const open = <T>(service: ServiceName, connect: () => Promise<T>) =>
    options.failFast
      ? connect()
      : openWhenAvailable(service, connect, { log, signal, health: observation });
  let sql: Sql | undefined;
  try {
    sql = await open("database", () => openDatabase(settings));
    if (sql === undefined) return;
    observation.reached({ sql });
    if (options.migrate) {
      await migrate(sql, await loadMigrations(), { log, schema: settings.database.schema });
    } else {
      await requireMigrated(sql);
    }
    const kafka = await open("kafka", () => openKafka(settings, log));
    if (kafka === undefined) return;
    observation.reached({ kafka });
    await fn({ settings, log, signal, sql, kafka, metrics: observation.metrics });
  } finally {
    await observation.close();
    await sql?.end({ timeout: 5 });
  }
}
