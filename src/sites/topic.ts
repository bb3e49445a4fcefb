/**
 * The sites topic: compacted, one {@link SiteMessage} per site id, a tombstone for a removed one.
 *
 * @module
 */
import { ServiceError, UsageError } from "../errors.ts";
import type { Settings } from "../config/settings.ts";
import {
  endOffsets,
  ensureTopic,
  listTopics,
  topicConfigs,
  type TopicSpec,
} from "../kafka/admin.ts";
import type { KafkaClient } from "../kafka/client.ts";
import {
  followAssignedRows,
  type KeyedValue,
  PublishError,
  publishLatest,
  readLatest,
} from "../kafka/compacted.ts";
import { describeKafkaError, kafkaFailure } from "../kafka/errors.ts";
import type { Logger } from "../log.ts";
import { checkerSites, type SitesFeed } from "./checker_sites.ts";
import type { SitesDiff } from "./diff.ts";
import type { Env } from "./file.ts";
import {
  decodeSiteMessage,
  encodeSiteMessage,
  type SiteMessage,
  type UnreadableSite,
} from "./site_message.ts";

/** Creates the sites topic, compacted, unless it exists; a UsageError when it is not compacted. */
export async function ensureSitesTopic(
  kafka: KafkaClient,
  spec: Omit<TopicSpec, "configs">,
  log: Logger,
): Promise<void> {
  const configs = { "cleanup.policy": "compact" };
  await ensureTopic(kafka, { ...spec, configs }, log).catch((error) => {
    throw kafkaFailure(error);
  });
  await checkCompacted(kafka, spec.topic, log);
}

/** Makes sure that the sites topic, if it exists, is compacted (a dry run). */
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

/** Each site's last message on the topic, up to its end when reading began; `null`: no topic. */
export async function readSites(
  kafka: KafkaClient,
  topic: string,
): Promise<Map<string, SiteMessage | UnreadableSite> | null> {
  const rows = await readLatest(kafka, topic).catch((error) => {
    throw kafkaFailure(error);
  });
  if (rows === null) return null;
  return new Map([...rows].map(([id, value]) => [id, decodeSiteMessage(id, value)]));
}

/** The messages that make the topic hold the file's sites, in the diff's order. */
export function changesToPublish(diff: SitesDiff, desired: readonly SiteMessage[]): KeyedValue[] {
  const byId = new Map(desired.map((message) => [message.site.id, message]));
  const value = (id: string) => encodeSiteMessage(byId.get(id)!);
  return [
    ...diff.added.map((id) => ({ key: id, value: value(id) })),
    ...diff.changed.map(({ id }) => ({ key: id, value: value(id) })),
    ...diff.removed.map((id) => ({ key: id, value: null })),
  ];
}

/** Publishes what a diff changes; a ServiceError says how many messages the cluster took. */
export async function publishSites(
  kafka: KafkaClient,
  topic: string,
  changes: readonly KeyedValue[],
): Promise<void> {
  await publishLatest(kafka, topic, changes).catch((error) => {
    if (!(error instanceof PublishError)) throw kafkaFailure(error);
    const { acknowledged, total } = error.progress;
    const what = acknowledged === 0
      ? `Publishing to "${topic}" failed before any of ${total} messages was acknowledged: the topic may hold part of this change; run monitor sites apply again to finish it`
      : `Publishing to "${topic}" failed after ${acknowledged} of ${total} messages: the topic holds part of this change; run monitor sites apply again to finish it`;
    throw new ServiceError(`${what}: ${describeKafkaError(error.cause)}`, { cause: error });
  });
}

/** The sites the region's group assigns to this checker until `signal` is aborted, then leaves. */
export function followSitesTopic(
  kafka: KafkaClient,
  { settings, env, log }: { readonly settings: Settings; readonly env: Env; readonly log: Logger },
): SitesFeed {
  return async (apply, signal) => {
    if (signal.aborted) return;
    const { sitesTopic: topic, sitesPartitions: partitions } = settings.kafka;
    const replicationFactor = settings.kafka.topicReplicationFactor;
    const groupId = `monitor-checkers-${settings.region}`;
    log.info(
      "no --config: checking the sites of the sites topic that the region's checkers share (--config FILE checks a file instead)",
      { topic, groupId, region: settings.region },
    );
    // Neither step heeds the signal (the client retries without end): a stop does not wait.
    const stopped = new Promise<undefined>((resolve) =>
      signal.addEventListener("abort", () => resolve(undefined), { once: true })
    );
    const ends = await Promise.race([
      ensureSitesTopic(kafka, { topic, partitions, replicationFactor }, log)
        .then(() => endOffsets(kafka, topic).catch(() => undefined)), // (unknown: nothing to say)
      stopped,
    ]);
    if (signal.aborted) return;
    if (ends?.every((end) => end === 0n)) {
      log.warn(
        'the sites topic is empty: nothing to check until "monitor sites apply FILE" publishes sites to it',
        { topic },
      );
    }
    const sitesOf = checkerSites({ env, log });
    const { sessionTimeoutMs } = settings.kafka;
    const onChange = (rows: ReadonlyMap<string, Uint8Array>) => apply(sitesOf(rows));
    const joining = followAssignedRows({ kafka, topic, groupId, sessionTimeoutMs, log, onChange });
    const member = await Promise.race([joining, stopped]);
    if (member === undefined) {
      joining.then((late) => late.stop(), () => {});
      return;
    }
    try {
      await Promise.race([stopped, member.crashed]);
    } finally {
      await member.stop();
    }
  };
}
