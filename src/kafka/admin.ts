/**
 * Topic administration and the cluster probe: creating the topic when it is missing, listing
 * topics, and asking the cluster whether it answers (for `/healthz`).
 *
 * @module
 */
import { Admin, ConfigResourceTypes, findErrorBy } from "@platformatic/kafka";
import type { Logger } from "../log.ts";
import { type KafkaClient, setupOf } from "./client.ts";

/** Where and how the topic is created. */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** -1 for the broker's default. */
  readonly replicationFactor: number;
  /** Topic configs to create it with, such as `{ "cleanup.policy": "compact" }`. */
  readonly configs?: Readonly<Record<string, string>>;
}

/** How long a new topic's partitions may take to get leaders. */
const LEADERS_TIMEOUT_MS = 30_000;

/**
 * Creates the topic unless it exists, and waits until each of its partitions has a leader (a
 * fresh broker otherwise answers "This server does not host this topic-partition" for a moment).
 * A broker that forbids creating topics (managed services often do) is fine as long as the topic
 * is there.
 *
 * @param kafka The cluster.
 * @param spec Topic name, partitions and replication factor.
 * @param log Where to say what happened.
 * @throws {Error} When the topic neither exists nor can be created (see `describeKafkaError`).
 *
 * @example
 * ```ts ignore
 * import { ensureTopic } from "./admin.ts";
 * await ensureTopic(kafka, { topic: "checks", partitions: 3, replicationFactor: -1 }, log);
 * ```
 */
export async function ensureTopic(kafka: KafkaClient, spec: TopicSpec, log: Logger): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    if ((await admin.listTopics()).includes(spec.topic)) return;
    try {
      const configs = Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value }));
      await admin.createTopics({
        topics: [spec.topic],
        partitions: spec.partitions,
        replicas: spec.replicationFactor,
        ...(configs.length === 0 ? {} : { configs }),
      });
      log.info("topic created", {
        topic: spec.topic,
        partitions: spec.partitions,
        ...spec.configs,
      });
    } catch (error) {
      // Another process created it meanwhile.
      if (findErrorBy(error as Error, "apiId", "TOPIC_ALREADY_EXISTS") === null) throw error;
    }
    await untilLed(admin, spec.topic);
  });
}

/** Waits until every partition of `topic` has a leader, asking the cluster every 100 ms. */
async function untilLed(admin: Admin, topic: string): Promise<void> {
  const deadlineMs = performance.now() + LEADERS_TIMEOUT_MS;
  for (;;) {
    const led = await admin.metadata({ topics: [topic], forceUpdate: true }).then(
      (metadata) => metadata.topics.get(topic)?.partitions.every((p) => p.leader >= 0) ?? false,
      (error) => {
        if (performance.now() > deadlineMs) throw error;
        return false;
      },
    );
    if (led) return;
    if (performance.now() > deadlineMs) {
      throw new Error(
        `Topic "${topic}" has partitions without a leader after ${LEADERS_TIMEOUT_MS} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The names of the cluster's topics.
 *
 * @param kafka The cluster.
 * @returns Topic names, in no particular order.
 * @throws {Error} When the cluster cannot be reached.
 *
 * @example
 * ```ts ignore
 * import { listTopics } from "./admin.ts";
 * const exists = (await listTopics(kafka)).includes("checks");
 * ```
 */
export async function listTopics(kafka: KafkaClient): Promise<string[]> {
  return await withAdmin(kafka, (admin) => admin.listTopics());
}

/**
 * The configs of a topic as the cluster applies them (its own and the brokers' defaults).
 *
 * @param kafka The cluster.
 * @param topic The topic.
 * @returns Config name → value (null for a sensitive or unset one).
 * @throws {Error} When the cluster cannot be reached, the topic does not exist or describing its
 *   configs is not allowed.
 *
 * @example
 * ```ts ignore
 * import { topicConfigs } from "./admin.ts";
 * const compacted = (await topicConfigs(kafka, "website-sites"))["cleanup.policy"] === "compact";
 * ```
 */
export async function topicConfigs(
  kafka: KafkaClient,
  topic: string,
): Promise<Record<string, string | null>> {
  const [description] = await withAdmin(kafka, (admin) =>
    admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic }],
    }));
  return Object.fromEntries(
    (description?.configs ?? []).map((config) => [config.name, config.value ?? null]),
  );
}

/**
 * Runs `use` with an admin client of the cluster, closed afterwards.
 *
 * @param kafka The cluster.
 * @param use What to do with it.
 * @returns What `use` returned.
 *
 * @example
 * ```ts ignore
 * import { withAdmin } from "./admin.ts";
 * await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: ["old"] }));
 * ```
 */
export async function withAdmin<T>(
  kafka: KafkaClient,
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Admin(setupOf(kafka).options);
  try {
    return await use(admin);
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Asks the cluster whether it answers, over one connection kept between probes. */
export interface ClusterProbe {
  /** Resolves when the cluster answered; rejects, saying why, when it did not. */
  probe(): Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/**
 * A probe of the cluster (its brokers' metadata, asked afresh each time), connected on first use
 * and again after a failed connection.
 *
 * @param kafka The cluster.
 * @returns The probe; close it when done.
 *
 * @example
 * ```ts ignore
 * import { clusterProbe } from "./admin.ts";
 * const cluster = clusterProbe(kafka);
 * await cluster.probe();
 * await cluster.close();
 * ```
 */
export function clusterProbe(kafka: KafkaClient): ClusterProbe {
  // One attempt a probe: the caller asks again (and bounds how long it waits).
  const admin = new Admin({ ...setupOf(kafka).options, retries: 0 });
  return {
    async probe() {
      await admin.metadata({ topics: [], forceUpdate: true });
    },
    async close() {
      await admin.close();
    },
  };
}

/**
 * The offset each partition's next message will get: with no transactions, how many messages were
 * ever written to it (compaction removes messages, not offsets).
 *
 * @param kafka The cluster.
 * @param topic The topic.
 * @returns One offset per partition, by partition; none when the topic does not exist.
 * @throws {Error} When the cluster cannot be reached.
 *
 * @example
 * ```ts ignore
 * import { endOffsets } from "./admin.ts";
 * const written = (await endOffsets(kafka, "website-sites")).reduce((a, b) => a + b, 0n);
 * ```
 */
export async function endOffsets(kafka: KafkaClient, topic: string): Promise<bigint[]> {
  return await withAdmin(kafka, async (admin) => {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    if (count === 0) return [];
    const partitions = [...Array(count).keys()].map((partitionIndex) => ({
      partitionIndex,
      timestamp: -1n,
    }));
    const [ends] = await admin.listOffsets({ topics: [{ name: topic, partitions }] });
    const offsets = Array<bigint>(count).fill(0n);
    for (const { partitionIndex, offset } of ends?.partitions ?? []) {
      offsets[partitionIndex] = offset;
    }
    return offsets;
  });
}
