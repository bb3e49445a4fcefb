/**
 * Topic administration and the cluster probe: creating the topic when it is missing, listing
 * topics, and asking the cluster whether it answers (for `/healthz`).
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { type KafkaClient, kafkajsOf } from "./client.ts";

/** Where and how the topic is created. */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** -1 for the broker's default. */
  readonly replicationFactor: number;
}

/**
 * Creates the topic unless it exists. A broker that forbids creating topics (managed services
 * often do) is fine as long as the topic is there.
 *
 * @param kafka The cluster.
 * @param spec Topic name, partitions and replication factor.
 * @param log Where to say what happened.
 * @throws {Error} When the topic neither exists nor can be created.
 *
 * @example
 * ```ts ignore
 * import { ensureTopic } from "./admin.ts";
 * await ensureTopic(kafka, { topic: "checks", partitions: 3, replicationFactor: -1 }, log);
 * ```
 */
export async function ensureTopic(kafka: KafkaClient, spec: TopicSpec, log: Logger): Promise<void> {
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (existing.includes(spec.topic)) return;
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
      }],
    });
    if (created) {
      log.info("topic created", { topic: spec.topic, partitions: spec.partitions });
    }
  } finally {
    await admin.disconnect();
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
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
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
 * A probe of the cluster (its brokers' metadata), connected on first use and again after a failed
 * connection.
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
  const admin = kafkajsOf(kafka).admin();
  let connected: Promise<void> | undefined;
  return {
    async probe() {
      connected ??= admin.connect().catch((error) => {
        connected = undefined;
        throw error;
      });
      await connected;
      await admin.describeCluster();
    },
    close: () => admin.disconnect(),
  };
}
