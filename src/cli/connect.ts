/**
 * Connecting to Kafka and PostgreSQL at start-up, turning "cannot connect" into a
 * {@link ServiceError} that says where (without credentials) and what to do.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import { redactUri, type Settings } from "../config/settings.ts";
import { connectDatabase, type Sql } from "../db/client.ts";
import { loadMigrations, type Migration } from "../db/migrate.ts";
import { ServiceError } from "../errors.ts";
import { createKafka } from "../kafka/client.ts";
import { ensureTopic } from "../kafka/producer.ts";
import type { Logger } from "../log.ts";

const LOCAL_HINT = 'start the local services with "deno task services:start", or point';

/**
 * Creates the Kafka client and makes sure the topic exists.
 *
 * @throws {ServiceError} When the brokers cannot be reached.
 */
export async function openKafka(settings: Settings, log: Logger): Promise<Kafka> {
  const kafka = createKafka(settings.kafka, log);
  try {
    await ensureTopic(kafka, {
      topic: settings.kafka.topic,
      partitions: settings.kafka.topicPartitions,
      replicationFactor: settings.kafka.topicReplicationFactor,
    }, log);
  } catch (error) {
    throw new ServiceError(
      `Cannot use Kafka at "${settings.kafka.brokers.join(",")}": ${
        (error as Error).message
      }: ${LOCAL_HINT} KAFKA_BROKERS at a running broker`,
    );
  }
  return kafka;
}

/**
 * Opens the database pool and checks that it answers.
 *
 * @throws {ServiceError} When it does not.
 */
export async function openDatabase(settings: Settings): Promise<Sql> {
  const sql = connectDatabase(settings.database);
  try {
    await sql`SELECT 1`;
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw new ServiceError(
      `Cannot use PostgreSQL at "${redactUri(settings.database.url)}": ${
        (error as Error).message
      }: ${LOCAL_HINT} DATABASE_URL at a running server`,
    );
  }
  return sql;
}

/**
 * Checks that every migration has been applied, so a consumer never writes into a missing table.
 *
 * @throws {ServiceError} Naming what to run, when the schema is behind.
 */
export async function requireMigrated(sql: Sql, migrations?: readonly Migration[]): Promise<void> {
  const expected = migrations ?? await loadMigrations();
  const [{ exists }] = await sql<[{ exists: boolean }]>`
    SELECT to_regclass('monitor_migrations') IS NOT NULL AS exists`;
  const applied = exists
    ? new Set(
      (await sql<{ version: number }[]>`SELECT version FROM monitor_migrations`).map((r) =>
        r.version
      ),
    )
    : new Set<number>();
  const missing = expected.filter((m) => !applied.has(m.version)).map((m) => m.name);
  if (missing.length > 0) {
    throw new ServiceError(
      `The database schema is not up to date (missing ${
        missing.join(", ")
      }): run "monitor migrate" first`,
    );
  }
}
