/**
 * `monitor sites apply` and `monitor sites list`: the sites topic as configuration as code.
 *
 * @module
 */
import { loadSitesAsWritten } from "../sites/file.ts";
import { createKafka } from "../kafka/client.ts";
import { jsonLine, printable } from "../text.ts";
import { diffSites } from "../sites/diff.ts";
import { siteMessages } from "../sites/site_message.ts";
import {
  changesToPublish,
  checkSitesTopic,
  ensureSitesTopic,
  publishSites,
  readSites,
} from "../sites/topic.ts";
import { type CliContext, prepare } from "./context.ts";

/**
 * Runs `monitor sites apply`: the file's problems come before any connection; an uncompacted topic
 * is refused. Prints `+ id`, `~ id (changed keys)`, `- id`, a summary; a dry run changes nothing.
 */
export async function sitesApplyCommand(
  options: { readonly file: string; readonly dryRun?: boolean },
  context: CliContext,
): Promise<void> {
  const desired = siteMessages(await loadSitesAsWritten(options.file), options.file);
  const { settings, log } = prepare(context);
  const kafka = createKafka(settings.kafka, log);
  const { sitesTopic: topic, sitesPartitions: partitions } = settings.kafka;
  if (options.dryRun) await checkSitesTopic(kafka, topic, log);
  else {
    const replicationFactor = settings.kafka.topicReplicationFactor;
    await ensureSitesTopic(kafka, { topic, partitions, replicationFactor }, log);
  }
  const diff = diffSites((await readSites(kafka, topic)) ?? new Map(), desired);
  const { added, changed, removed, unchanged } = diff;
  for (const id of added) context.writeOut(`+ ${id}\n`);
  for (const { id, keys, unreadable } of changed) {
    const detail = unreadable === undefined
      ? keys.join(", ")
      : `replaces a message that is not a site: ${printable(unreadable)}`;
    context.writeOut(`~ ${id} (${detail})\n`);
  }
  for (const id of removed) context.writeOut(`- ${printable(id)}\n`);
  const changes = changesToPublish(diff, desired);
  const messages = `${changes.length} message${changes.length === 1 ? "" : "s"}`;
  let outcome = "nothing to publish";
  if (changes.length > 0 && options.dryRun) {
    outcome = `would publish ${messages} (dry run: nothing published)`;
  } else if (changes.length > 0) {
    await publishSites(kafka, topic, changes);
    outcome = `published ${messages} to topic "${topic}"`;
  }
  context.writeOut(
    `${added.length} added, ${changed.length} changed, ${removed.length} removed, ${unchanged} unchanged: ${outcome}\n`,
  );
}

/** Runs `monitor sites list`: the sites on the topic, sorted by id; `json`: one message a line. */
export async function sitesListCommand(
  options: { readonly json?: boolean },
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
      const reason = printable(message.unreadable);
      log.warn("a message on the sites topic is not a site", { key: printable(id), reason });
    } else {
      const { site } = message;
      context.writeOut(
        `${options.json ? jsonLine(message) : `${printable(site.id)}  ${printable(site.url)}`}\n`,
      );
    }
  }
}
