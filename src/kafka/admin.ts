/**
 * Topic administration and the cluster probe.
 *
 * @module
 */
import { Admin, ConfigResourceTypes, findErrorBy } from "@platformatic/kafka";
import type { Logger } from "../log.ts";
import { type KafkaClient, setupOf } from "./client.ts";

/** Where and how the topic is created (`replicationFactor` -1: the broker's default). */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs?: Readonly<Record<string, string>>;
}

const LEADERS_TIMEOUT_MS = 30_000;

/**
 * Creates the topic unless it exists (managed services may forbid it), then waits until each
 * partition has a leader (a fresh broker answers "does not host this topic-partition" a moment).
 */
export async function ensureTopic(kafka: KafkaClient, spec: TopicSpec, log: Logger): Promise<void> {
  const { topic, partitions, configs = {} } = spec;
  await withAdmin(kafka, async (admin) => {
    if ((await admin.listTopics()).includes(topic)) return;
    try {
      await admin.createTopics({
        topics: [topic],
        partitions,
        replicas: spec.replicationFactor,
        configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
      });
      log.info("topic created", { topic, partitions, ...configs });
    } catch (error) {
      // Another process created it meanwhile.
      if (findErrorBy(error as Error, "apiId", "TOPIC_ALREADY_EXISTS") === null) throw error;
    }
    const deadlineMs = performance.now() + LEADERS_TIMEOUT_MS;
    for (;;) {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(
        (error) => {
          if (performance.now() > deadlineMs) throw error;
        },
      );
      if (metadata?.topics.get(topic)?.partitions.every((p) => p.leader >= 0)) return;
      if (performance.now() > deadlineMs) {
        throw new Error(
          `Topic "${topic}" has partitions without a leader after ${LEADERS_TIMEOUT_MS} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
}

/** The names of the cluster's topics, in no particular order. */
export async function listTopics(kafka: KafkaClient): Promise<string[]> {
  return await withAdmin(kafka, (admin) => admin.listTopics());
}

/** A topic's configs as the cluster applies them: name → value (null if sensitive or unset). */
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

/** Runs `use` with an admin client of the cluster, closed afterwards. */
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
export type ClusterProbe = ReturnType<typeof clusterProbe>;

/** A {@link ClusterProbe}: `probe()` rejects, saying why, when the cluster did not answer. */
export function clusterProbe(kafka: KafkaClient) {
  // One attempt a probe: the caller asks again (and bounds how long it waits).
  const admin = new Admin({ ...setupOf(kafka).options, retries: 0 });
  return {
    probe: () => admin.metadata({ topics: [], forceUpdate: true }).then(() => {}),
    close: () => admin.close(),
  };
}

/** The offset each partition's next message will get (how many messages were ever written to it). */
export async function endOffsets(kafka: KafkaClient, topic: string): Promise<bigint[]> {
  return await withAdmin(kafka, async (admin) => {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    if (count === 0) return [];
    const partitions = [...Array(count).keys()].map((i) => ({ partitionIndex: i, timestamp: -1n }));
    const [ends] = await admin.listOffsets({ topics: [{ name: topic, partitions }] });
    const offsetOf = new Map(ends?.partitions.map((p) => [p.partitionIndex, p.offset]));
    return Array.from({ length: count }, (_, partition) => offsetOf.get(partition) ?? 0n);
  });
}
