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
import { observe } from "./observe.ts";

/** The open services. */
export interface Services {
  readonly sql: Sql;
  readonly kafka: KafkaClient;
  readonly metrics: Metrics;
}

/**
 * Opens PostgreSQL (and requires its schema migrated) and Kafka, waiting for each while it is
 * unreachable, serves the metrics, runs `fn`, and closes everything.
 *
 * @param settings The settings.
 * @param context Logger, and the signal that ends the waiting.
 * @param fn What to do with the services.
 * @throws {ServiceError} When a service refuses for good, or the schema is not migrated.
 *
 * @example
 * ```ts ignore
 * import { withServices } from "./services.ts";
 * await withServices(settings, { log, signal }, ({ sql, kafka }) => run(sql, kafka));
 * ```
 */
export async function withServices(
  settings: Settings,
  context: { readonly log: Logger; readonly signal: AbortSignal },
  fn: (services: Services) => Promise<void>,
): Promise<void> {
  const { log } = context;
  const sql = await openWhenAvailable(() => openDatabase(settings), context);
  if (sql === undefined) return;
  try {
    await requireMigrated(sql);
    const kafka = await openWhenAvailable(() => openKafka(settings, log), context);
    if (kafka === undefined) return;
    const { metrics, close } = observe(settings, { kafka, sql }, log);
    try {
      await fn({ sql, kafka, metrics });
    } finally {
      await close();
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
