/**
 * Access to the real Kafka broker and PostgreSQL server for integration tests, each test with its
 * own topic, consumer group and schema (after tulios/kafkajs's `testHelpers/`, MIT). The services
 * come from `deno task test`, which starts local ones unless KAFKA_BROKERS / DATABASE_URL are set.
 *
 * @module
 */
import { readSettings } from "../../src/config/settings.ts";
import { connectDatabase, type Sql } from "../../src/db/client.ts";
import { loadMigrations, migrate } from "../../src/db/migrate.ts";
import { ensurePartitions } from "../../src/db/partitions.ts";
import { ensureTopic } from "../../src/kafka/admin.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { type KafkaMessage, startConsumer } from "../../src/kafka/consumer.ts";
import {
  committedToEnd as committedUpToEnd,
  openTestProducer,
  type TestProducer,
} from "./kafka.ts";
import { SILENT } from "../../src/log.ts";

/** The environment of an integration test: real services, unique names. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  for (const name of ["KAFKA_BROKERS", "DATABASE_URL"]) {
    if (!Deno.env.get(name)) {
      throw new Error(
        `${name} is not set: run integration tests with "deno task test", which starts local services`,
      );
    }
  }
  const id = crypto.randomUUID().slice(0, 8);
  return {
    KAFKA_BROKERS: Deno.env.get("KAFKA_BROKERS")!,
    DATABASE_URL: Deno.env.get("DATABASE_URL")!,
    KAFKA_TOPIC: `test-${id}`,
    KAFKA_SITES_TOPIC: `test-sites-${id}`,
    KAFKA_GROUP_ID: `test-group-${id}`,
    KAFKA_TOPIC_PARTITIONS: "3",
    KAFKA_SESSION_TIMEOUT_MS: "6000",
    DATABASE_SCHEMA: `test_${id}`,
    LOG_LEVEL: "warn",
    ...extra,
  };
}

/**
 * Runs `fn` with a pool on a fresh, migrated schema, dropped afterwards.
 *
 * @param env From {@link testEnv}.
 * @param fn The test body.
 */
export async function withDatabase<T>(
  env: Record<string, string>,
  fn: (sql: Sql) => Promise<T>,
  options: { readonly migrated?: boolean } = {},
): Promise<T> {
  const settings = readSettings(env);
  const schema = settings.database.schema!;
  const sql = connectDatabase(settings.database);
  try {
    if (options.migrated ?? true) {
      await migrate(sql, await loadMigrations(), { log: SILENT, schema });
      await ensurePartitions(sql, new Date(), settings.database.partitionsAheadDays);
    }
    return await fn(sql);
  } finally {
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
    await sql.end({ timeout: 5 });
  }
}

/**
 * Polls `probe` until it returns a value that is not `undefined`, or fails after `timeoutMs`.
 *
 * @param what Described in the failure message.
 * @param probe Returns the awaited value, or `undefined` to keep waiting.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A plain producer on a fresh topic of `env`, for tests that publish messages by hand. */
export async function testProducer(
  env: Record<string, string>,
  partitions: number,
): Promise<{ topic: string; producer: TestProducer } & AsyncDisposable> {
  const settings = readSettings(env);
  const kafka = createKafka(settings.kafka, SILENT);
  const topic = settings.kafka.topic;
  await ensureTopic(kafka, { topic, partitions, replicationFactor: -1 }, SILENT);
  const producer = await openTestProducer(kafka);
  return { topic, producer, [Symbol.asyncDispose]: () => producer.disconnect() };
}

/**
 * The first `expected` messages on the topic of `env` (at least; in no particular order across
 * partitions), read from the start by a group of its own.
 */
export async function messagesOnTopic(
  env: Record<string, string>,
  expected: number,
): Promise<KafkaMessage[]> {
  const settings = readSettings(env);
  const messages: KafkaMessage[] = [];
  const consumer = await startConsumer({
    kafka: createKafka(settings.kafka, SILENT),
    topic: settings.kafka.topic,
    groupId: `${settings.kafka.groupId}-reader`,
    log: SILENT,
    handle: (batch) => {
      messages.push(...batch.messages);
      return Promise.resolve();
    },
  });
  try {
    await waitFor("every message read back", () => messages.length >= expected || undefined);
  } finally {
    await consumer.stop();
  }
  return messages;
}

/** Every check id on the topic, read from the start by a group of its own. */
export async function idsOnTopic(env: Record<string, string>, expected: number): Promise<string[]> {
  const messages = await messagesOnTopic(env, expected);
  return messages.map((message) => JSON.parse(new TextDecoder().decode(message.value!)).checkId);
}

/** Whether the group of `env` has committed every partition of its topic up to the end. */
export async function committedToEnd(env: Record<string, string>): Promise<boolean> {
  const { kafka } = readSettings(env);
  return await committedUpToEnd(createKafka(kafka, SILENT), {
    topic: kafka.topic,
    groupId: kafka.groupId,
  });
}
