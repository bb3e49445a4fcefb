/**
 * The sites topic: compacted, keyed by site id, one {@link SiteMessage} per site and a tombstone
 * for each removed one. Created when missing; read whole; written with what a diff changes.
 *
 * @module
 */
import { ServiceError, UsageError } from "../errors.ts";
import { ensureTopic, listTopics, topicConfigs, type TopicSpec } from "../kafka/admin.ts";
import type { KafkaClient } from "../kafka/client.ts";
import { type KeyedValue, PublishError, publishLatest, readLatest } from "../kafka/compacted.ts";
import { describeKafkaError, kafkaFailure } from "../kafka/errors.ts";
import type { Logger } from "../log.ts";
import type { SitesDiff } from "./diff.ts";
import {
  decodeSiteMessage,
  encodeSiteMessage,
  type SiteMessage,
  type UnreadableSite,
} from "./site_message.ts";

/** Where the sites topic is and how it is created (always compacted). */
export type SitesTopicSpec = Omit<TopicSpec, "configs">;

/** What the sites topic holds: site id → its message, or why that message is not a site. */
export type SitesOnTopic = Map<string, SiteMessage | UnreadableSite>;

/** The topic keeps each site's last message (and drops a tombstone after a while), forever. */
const COMPACTED = { "cleanup.policy": "compact" } as const;

/**
 * Creates the sites topic, compacted, unless it exists; then makes sure that it is compacted
 * (`cleanup.policy` exactly `compact`).
 *
 * @param kafka The cluster.
 * @param spec Topic, partitions, replication factor.
 * @param log Says what was created, and when the topic's configs cannot be read.
 * @throws {UsageError} When the topic exists and is not compacted.
 * @throws {ServiceError} When the cluster cannot be reached or refuses.
 *
 * @example
 * ```ts ignore
 * import { ensureSitesTopic } from "./topic.ts";
 * await ensureSitesTopic(kafka, { topic: "website-sites", partitions: 12, replicationFactor: -1 }, log);
 * ```
 */
export async function ensureSitesTopic(
  kafka: KafkaClient,
  spec: SitesTopicSpec,
  log: Logger,
): Promise<void> {
  await ensureTopic(kafka, { ...spec, configs: COMPACTED }, log).catch((error) => {
    throw kafkaFailure(error);
  });
  await checkCompacted(kafka, spec.topic, log);
}

/**
 * Makes sure that the sites topic, if it exists, is compacted: what a dry run checks.
 *
 * @param kafka The cluster.
 * @param topic The sites topic.
 * @param log Says when the topic's configs cannot be read.
 * @throws {UsageError} When the topic exists and is not compacted.
 * @throws {ServiceError} When the cluster cannot be reached or refuses.
 *
 * @example
 * ```ts ignore
 * import { checkSitesTopic } from "./topic.ts";
 * await checkSitesTopic(kafka, "website-sites", log);
 * ```
 */
export async function checkSitesTopic(
  kafka: KafkaClient,
  topic: string,
  log: Logger,
): Promise<void> {
  const topics = await listTopics(kafka).catch((error) => {
    throw kafkaFailure(error);
  });
  if (topics.includes(topic)) await checkCompacted(kafka, topic, log);
}

async function checkCompacted(kafka: KafkaClient, topic: string, log: Logger): Promise<void> {
  const policy = await topicConfigs(kafka, topic).then(
    (configs) => configs["cleanup.policy"] ?? null,
    (error) => {
      // A managed service may not grant DescribeConfigs: the topic may well be right.
      log.warn("cannot tell whether the sites topic is compacted", {
        topic,
        error: describeKafkaError(error),
      });
      return null;
    },
  );
  // "compact,delete" too would delete every site after the topic's retention time.
  if (policy !== null && policy !== "compact") {
    throw new UsageError(
      `Topic "${topic}" is not compacted (cleanup.policy is "${policy}"): its sites would be deleted after its retention time; set cleanup.policy=compact on it, or set KAFKA_SITES_TOPIC to another topic`,
    );
  }
}

/**
 * Reads the sites on the topic, from its beginning to its end as it was when the reading began.
 *
 * @param kafka The cluster.
 * @param topic The sites topic.
 * @returns Each site's last message (tombstoned sites left out), or `null` when there is no such
 *   topic yet.
 * @throws {ServiceError} When the cluster cannot be reached, the read does not end in time, or a
 *   site id is on two partitions.
 *
 * @example
 * ```ts ignore
 * import { readSites } from "./topic.ts";
 * const sites = await readSites(kafka, "website-sites");
 * ```
 */
export async function readSites(kafka: KafkaClient, topic: string): Promise<SitesOnTopic | null> {
  const rows = await readLatest(kafka, topic).catch((error) => {
    throw error instanceof ServiceError ? error : kafkaFailure(error);
  });
  if (rows === null) return null;
  return new Map([...rows].map(([id, value]) => [id, decodeSiteMessage(id, value)]));
}

/**
 * The messages that make the topic hold the file's sites: new and changed sites, tombstones for
 * removed ones.
 *
 * @param diff From `diffSites`.
 * @param desired The file's messages.
 * @returns Keys and values (`null`: a tombstone), in the diff's order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { changesToPublish } from "./topic.ts";
 * const site = { version: 1 as const, site: { id: "a", url: "https://a.example/" } };
 * const diff = { added: ["a"], changed: [], removed: ["b"], unchanged: 0 };
 * assert.deepEqual(changesToPublish(diff, [site]).map(({ key, value }) => [key, value === null]), [
 *   ["a", false],
 *   ["b", true],
 * ]);
 * ```
 */
export function changesToPublish(diff: SitesDiff, desired: readonly SiteMessage[]): KeyedValue[] {
  const byId = new Map(desired.map((message) => [message.site.id, message]));
  const value = (id: string) => encodeSiteMessage(byId.get(id)!);
  return [
    ...diff.added.map((id) => ({ key: id, value: value(id) })),
    ...diff.changed.map(({ id }) => ({ key: id, value: value(id) })),
    ...diff.removed.map((id) => ({ key: id, value: null })),
  ];
}

/**
 * Publishes what a diff changes and returns once every in-sync replica has it.
 *
 * @param kafka The cluster.
 * @param topic The sites topic; it must exist.
 * @param changes From {@link changesToPublish}.
 * @throws {ServiceError} When the cluster does not take them, saying how many it took: applying
 *   the file again finishes the job.
 *
 * @example
 * ```ts ignore
 * import { changesToPublish, publishSites } from "./topic.ts";
 * await publishSites(kafka, "website-sites", changesToPublish(diff, desired));
 * ```
 */
export async function publishSites(
  kafka: KafkaClient,
  topic: string,
  changes: readonly KeyedValue[],
): Promise<void> {
  await publishLatest(kafka, topic, changes).catch((error) => {
    throw error instanceof PublishError ? publishFailure(error) : kafkaFailure(error);
  });
}

function publishFailure(error: PublishError): ServiceError {
  const { topic, acknowledged, total } = error.progress;
  const cause = describeKafkaError(error.cause);
  const what = acknowledged === 0
    ? `Publishing to "${topic}" failed before any of ${total} messages was acknowledged: the topic may hold part of this change; run monitor sites apply again to finish it`
    : `Publishing to "${topic}" failed after ${acknowledged} of ${total} messages: the topic holds part of this change; run monitor sites apply again to finish it`;
  return new ServiceError(`${what}: ${cause}`, { cause: error });
}
