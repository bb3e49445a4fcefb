/**
 * `monitor sites apply` and `monitor sites list`: the sites topic as configuration as code. Apply
 * validates a sites file, prints how the topic differs from it and publishes the difference;
 * list prints what the topic holds.
 *
 * @module
 */
import { loadSitesAsWritten } from "../sites/file.ts";
import { createKafka } from "../kafka/client.ts";
import { jsonLine, printable } from "../text.ts";
import { diffSites, isEmptyDiff, type SiteChange, type SitesDiff } from "../sites/diff.ts";
import { type SiteMessage, siteMessages } from "../sites/site_message.ts";
import {
  changesToPublish,
  checkSitesTopic,
  ensureSitesTopic,
  publishSites,
  readSites,
} from "../sites/topic.ts";
import { type CliContext, prepare } from "./context.ts";

/** Options of `monitor sites apply`. */
export interface SitesApplyOptions {
  /** The sites file. */
  readonly file: string;
  /** Print the difference, publish nothing (and create no topic, but check one that exists). */
  readonly dryRun?: boolean;
}

/**
 * Runs `monitor sites apply`: every problem of the file is reported before anything connects.
 *
 * @param options Parsed arguments.
 * @param context Environment and output.
 * @throws {ConfigError} When the sites file is invalid; nothing is published.
 * @throws {UsageError} When the sites topic exists and is not compacted, dry run or not.
 * @throws {ServiceError} When Kafka cannot be reached or refuses, saying how much was published.
 *
 * @example
 * ```ts ignore
 * import { sitesApplyCommand } from "./sites.ts";
 * await sitesApplyCommand({ file: "sites.yaml", dryRun: true }, context);
 * ```
 */
export async function sitesApplyCommand(
  options: SitesApplyOptions,
  context: CliContext,
): Promise<void> {
  const desired = siteMessages(await loadSitesAsWritten(options.file), options.file);
  const { settings, log } = prepare(context);
  const kafka = createKafka(settings.kafka, log);
  const { sitesTopic: topic } = settings.kafka;
  if (options.dryRun) {
    await checkSitesTopic(kafka, topic, log);
  } else {
    await ensureSitesTopic(kafka, {
      topic,
      partitions: settings.kafka.sitesPartitions,
      replicationFactor: settings.kafka.topicReplicationFactor,
    }, log);
  }
  const diff = diffSites((await readSites(kafka, topic)) ?? new Map(), desired);
  for (const line of diffLines(diff)) context.writeOut(`${line}\n`);
  const changes = changesToPublish(diff, desired);
  let outcome: string;
  if (isEmptyDiff(diff)) {
    outcome = "nothing to publish";
  } else if (options.dryRun) {
    outcome = `would publish ${plural(changes.length, "message")} (dry run: nothing published)`;
  } else {
    await publishSites(kafka, topic, changes);
    outcome = `published ${plural(changes.length, "message")} to topic "${topic}"`;
  }
  context.writeOut(`${summary(diff)}: ${outcome}\n`);
}

/** Options of `monitor sites list`. */
export interface SitesListOptions {
  /** One JSON object (the message) per line instead of `id  url`. */
  readonly json?: boolean;
}

/**
 * Runs `monitor sites list`: the sites on the topic, sorted by id.
 *
 * @param options Parsed arguments.
 * @param context Environment and output.
 * @throws {ServiceError} When Kafka cannot be reached or refuses.
 *
 * @example
 * ```ts ignore
 * import { sitesListCommand } from "./sites.ts";
 * await sitesListCommand({ json: true }, context);
 * ```
 */
export async function sitesListCommand(
  options: SitesListOptions,
  context: CliContext,
): Promise<void> {
  const { settings, log } = prepare(context);
  const topic = settings.kafka.sitesTopic;
  const sites = await readSites(createKafka(settings.kafka, log), topic);
  if (sites === null) {
    log.info("no sites: the sites topic does not exist yet (monitor sites apply creates it)", {
      topic,
    });
    return;
  }
  for (const [id, message] of [...sites].toSorted(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    if ("unreadable" in message) {
      log.warn("a message on the sites topic is not a site", {
        key: printable(id),
        reason: printable(message.unreadable),
      });
    } else {
      context.writeOut(`${options.json ? jsonLine(message) : plainLine(message)}\n`);
    }
  }
}

/** `+ id`, `~ id (url, pattern)`, `- id`: added, changed (and which keys), removed. */
function diffLines(diff: SitesDiff): string[] {
  return [
    ...diff.added.map((id) => `+ ${id}`),
    ...diff.changed.map((change) => `~ ${change.id} (${changeDetail(change)})`),
    ...diff.removed.map((id) => `- ${printable(id)}`),
  ];
}

function changeDetail(change: SiteChange): string {
  return change.unreadable === undefined
    ? change.keys.join(", ")
    : `replaces a message that is not a site: ${printable(change.unreadable)}`;
}

/** `1 added, 1 changed, 1 removed, 4 unchanged` */
function summary(diff: SitesDiff): string {
  const { added, changed, removed, unchanged } = diff;
  return `${added.length} added, ${changed.length} changed, ${removed.length} removed, ${unchanged} unchanged`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** `shop  https://shop.example.com/health` */
function plainLine(message: SiteMessage): string {
  return `${printable(message.site.id)}  ${printable(message.site.url)}`;
}
