/**
 * Kafka and PostgreSQL for the commands: errors that say where (no credentials) and what to do,
 * waiting for them, and `--metrics-port`'s `/metrics` and `/healthz` (200 only if all answer now).
 *
 * @module
 */
import { backoffMs, settledWithin, sleep } from "../backoff.ts";
import { redactUri, type Settings } from "../config/settings.ts";
import { connectDatabase, pingDatabase, type Sql } from "../db/client.ts";
import { loadMigrations, migrate, requireMigrated } from "../db/migrate.ts";
import { ServiceError } from "../errors.ts";
import { type ClusterProbe, clusterProbe, ensureTopic } from "../kafka/admin.ts";
import { createKafka, type KafkaClient } from "../kafka/client.ts";
import { describeKafkaError } from "../kafka/errors.ts";
import type { Logger } from "../log.ts";
import { createMetrics, type Metrics } from "../metrics.ts";
import { CONTENT_TYPE } from "../prometheus.ts";
import { type CliContext, prepare } from "./context.ts";

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
    const where = settings.kafka.brokers.join(",");
    const hint = kafkaHint(message, settings.kafka);
    throw new ServiceError(`Cannot use Kafka at "${where}": ${message}: ${hint}`);
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
    const where = redactUri(settings.database.url);
    const hint = databaseHint(message);
    throw new ServiceError(`Cannot use PostgreSQL at "${where}": ${message}: ${hint}`);
  }
  return sql;
}

const PROBE_TIMEOUT_MS = 3_000;

type ServiceName = "kafka" | "database";

type Health = ReturnType<typeof serviceHealth>;

/** What `/healthz` says of each service in `needs`: "ok", or "unreachable: " and why. */
export function serviceHealth(needs: readonly ServiceName[]) {
  const failing = (reason: string) => () => Promise.reject(new Error(reason));
  const probes: Record<string, () => Promise<void>> = {};
  for (const service of needs) probes[service] = failing("not connected yet");
  let cluster: ClusterProbe | undefined;
  return {
    unreachable(service: ServiceName, reason: string) {
      probes[service] = failing(reason);
    },
    reached({ kafka, sql }: { readonly kafka?: KafkaClient; readonly sql?: Sql }) {
      // The cluster's probe is made on the first request: most processes are never asked.
      if (kafka !== undefined) probes.kafka = () => (cluster ??= clusterProbe(kafka)).probe();
      if (sql !== undefined) probes.database = () => pingDatabase(sql);
    },
    async report(): Promise<Record<string, string>> {
      const states = Object.entries(probes).map(async ([name, probe]) => {
        const outcome = await settledWithin(Promise.try(probe), PROBE_TIMEOUT_MS);
        if (outcome.status === "fulfilled") return [name, "ok"];
        const why = outcome.status === "rejected"
          ? (outcome.reason as Error).message
          : "no answer within 3 s";
        return [name, `unreachable: ${why}`];
      });
      return Object.fromEntries(await Promise.all(states));
    },
    close: async () => await cluster?.close(),
  };
}

/** Creates the metrics and, when METRICS_PORT is set, serves them with the health of `needs`. */
export function observe(settings: Settings, needs: readonly ServiceName[], log: Logger) {
  const metrics = createMetrics();
  const health = serviceHealth(needs);
  if (settings.metricsPort === null) return { ...health, metrics };
  // On all interfaces: Prometheus scrapes from elsewhere.
  const server = Deno.serve(
    { hostname: "0.0.0.0", port: settings.metricsPort, onListen() {} },
    async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/metrics") {
        return new Response(metrics.registry.metrics(), {
          headers: { "content-type": CONTENT_TYPE },
        });
      }
      if (pathname === "/healthz") {
        const report = await health.report();
        const healthy = Object.values(report).every((status) => status === "ok");
        return Response.json(report, { status: healthy ? 200 : 503 });
      }
      return new Response("Not found: try /metrics or /healthz\n", { status: 404 });
    },
  );
  log.info("metrics and health served", { port: server.addr.port, paths: "/metrics /healthz" });
  return {
    ...health,
    metrics,
    async close() {
      await server.shutdown();
      await health.close();
    },
  };
}

/**
 * Opens a service; unless `failFast`, tries again with backoff while it throws a ServiceError (told
 * to `health`), so that a command may start before Kafka or PostgreSQL; `undefined` if stopped.
 */
export async function openService<T>(
  service: ServiceName,
  open: () => Promise<T>,
  options: {
    readonly log: Logger;
    readonly signal: AbortSignal;
    readonly health: Health;
    readonly failFast?: boolean | undefined;
  },
): Promise<T | undefined> {
  if (options.failFast) return await open();
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
  const waiting = { log, signal, health: observation, failFast: options.failFast };
  let sql: Sql | undefined;
  try {
    sql = await openService("database", () => openDatabase(settings), waiting);
    if (sql === undefined) return;
    observation.reached({ sql });
    if (options.migrate) {
      await migrate(sql, await loadMigrations(), { log, schema: settings.database.schema });
    } else {
      await requireMigrated(sql);
    }
    const kafka = await openService("kafka", () => openKafka(settings, log), waiting);
    if (kafka === undefined) return;
    observation.reached({ kafka });
    await fn({ settings, log, signal, sql, kafka, metrics: observation.metrics });
  } finally {
    await observation.close();
    await sql?.end({ timeout: 5 });
  }
}
