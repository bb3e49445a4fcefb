/**
 * The services a long-running reader of the results topic works with: PostgreSQL (migrated) and
 * Kafka, waited for while unreachable, with the metrics endpoint served meanwhile.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { Sql } from "../db/client.ts";
import { requireMigrated } from "../db/migrate.ts";
import type { KafkaClient } from "../kafka/client.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { openDatabase, openKafka, openWhenAvailable } from "./connect.ts";
import { observe, type ServiceName } from "./observe.ts";

/** The open services. */
export interface Services {
  readonly sql: Sql;
  readonly kafka: KafkaClient;
  readonly metrics: Metrics;
}

/**
 * Opens PostgreSQL (migrated) and Kafka, waiting for each while it is unreachable, runs `fn`, and
 * closes everything; serves the metrics and health meanwhile.
 *
 * @throws {ServiceError} When a service refuses for good, or the schema is not migrated.
 */
export async function withServices(
  settings: Settings,
  context: { readonly log: Logger; readonly signal: AbortSignal },
  fn: (services: Services) => Promise<void>,
): Promise<void> {
  const { log } = context;
  const observation = observe(settings, ["kafka", "database"], log);
  const waiting = (service: ServiceName) => ({
    ...context,
    onUnreachable: (reason: string) => observation.unreachable(service, reason),
  });
  let sql: Sql | undefined;
  try {
    sql = await openWhenAvailable(() => openDatabase(settings), waiting("database"));
    if (sql === undefined) return;
    observation.reached({ sql });
    await requireMigrated(sql);
    const kafka = await openWhenAvailable(() => openKafka(settings, log), waiting("kafka"));
    if (kafka === undefined) return;
    observation.reached({ kafka });
    await fn({ sql, kafka, metrics: observation.metrics });
  } finally {
    await observation.close();
    await sql?.end({ timeout: 5 });
  }
}
