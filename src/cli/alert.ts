/**
 * `monitor alert`: reads the check results in a consumer group of its own
 * (`KAFKA_ALERT_GROUP_ID`), runs each site's incident state machine, and writes the new states,
 * the incidents and their notifications (the outbox) in one transaction, before the offsets are
 * committed; delivery loops, one per channel, send the outbox. A tick every few seconds lets
 * silence open `stale` incidents. One alerter works at a time (a database lock): it keeps the
 * states in memory; another one started waits to take over.
 *
 * @module
 */
import type { ChannelConfig } from "../alert/channels/config.ts";
import { createChannel } from "../alert/channels/mod.ts";
import { type AlertedSite, decide, resultEvents, tickEvents } from "../alert/decide.ts";
import type { AlertEvent } from "../alert/incidents.ts";
import { type Outbox, startDelivery } from "../alert/deliver.ts";
import type { AlertState } from "../alert/state.ts";
import { loadAlertConfig } from "../config/sites.ts";
import type { Settings } from "../config/settings.ts";
import {
  claimDueNotifications,
  loadAlertStates,
  lockAlerter,
  markNotificationFailed,
  markNotificationSent,
  saveAlertChange,
} from "../db/alerts.ts";
import type { Sql } from "../db/client.ts";
import { groupProgress } from "../kafka/admin.ts";
import type { KafkaClient } from "../kafka/client.ts";
import { decodeBatch } from "../kafka/codec.ts";
import { startConsumer } from "../kafka/consumer.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { type CliContext, prepare, whenAborted } from "./context.ts";
import { withServices } from "./services.ts";

/** How often silence is looked for. */
const TICK_MS = 5_000;

/** Beyond a channel's timeout, how long a claimed notification stays claimed. */
const LEASE_MARGIN_MS = 5_000;

/**
 * Runs `monitor alert` until the context's signal is aborted.
 *
 * @param options `config`: the sites file with the alert rules and channels.
 * @param context Environment, signal and output.
 * @throws {ConfigError} Before connecting to anything, when the sites file is invalid.
 * @throws {ServiceError} When Kafka or PostgreSQL cannot be used, or the schema is not migrated.
 */
export async function alertCommand(
  options: { readonly config: string },
  context: CliContext,
): Promise<void> {
  const config = await loadAlertConfig(options.config, context.env);
  const { settings, log } = prepare(context);
  const { signal } = context;
  const sites = new Map(
    config.sites.map((
      site,
    ) => [site.id, { rule: site.alert, name: site.name, url: site.urlAsWritten }]),
  );
  const channels = [...config.channels.values()];
  await withServices(
    settings,
    { log, signal },
    (services) => runAlerter({ ...services, sites, channels, settings, log, signal }),
  );
}

/** What {@link runAlerter} needs. */
export interface AlerterRun {
  readonly sites: ReadonlyMap<string, AlertedSite>;
  readonly channels: readonly ChannelConfig[];
  readonly settings: Settings;
  readonly kafka: KafkaClient;
  readonly sql: Sql;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly signal: AbortSignal;
}

/**
 * Alerts until the signal is aborted.
 *
 * @throws {Error} When the consumer crashed beyond the client's own restarts.
 */
export async function runAlerter(run: AlerterRun): Promise<void> {
  const { settings, sql, log } = run;
  const lock = await lockAlerter(sql, settings.kafka.alertGroupId, {
    signal: run.signal,
    waiting: () => log.info("another alerter is at work: waiting to take over"),
  });
  if (lock === undefined) return;
  try {
    await alertWhileLocked(run);
  } finally {
    await lock.release();
  }
}

/** {@link runAlerter}, once this alerter holds the lock. */
async function alertWhileLocked(run: AlerterRun): Promise<void> {
  const { sites, settings, sql, log, metrics } = run;
  const delivery = startDelivery(
    run.channels.map((c) => createChannel(c)),
    outboxIn(sql, run.channels),
    {
      log,
      onOutcome: (channel, outcome, latencyMs) => {
        metrics.notifications.inc({ channel, outcome });
        if (outcome === "sent") metrics.notificationLatency.observe({ channel }, latencyMs / 1000);
      },
    },
  );
  // Kept in memory by the one alerter at work; the database has them for the next one.
  const states = new Map<string, AlertState>(await loadAlertStates(sql));
  const serial = serialized();

  /** Runs events through the states and saves the change whole; then the outbox is sent. */
  async function apply(events: ReadonlyMap<string, readonly AlertEvent[]>): Promise<void> {
    const change = decide(events, { sites, states, now: new Date().toISOString() });
    if (change.states.length === 0) return;
    await saveAlertChange(sql, change);
    for (const state of change.states) states.set(state.siteId, state);
    for (const transition of change.transitions) {
      const { incident } = transition;
      metrics.incidents.inc({ kind: incident.kind, transition: transition.type });
      log.info(`incident ${transition.type}`, {
        incident: incident.id,
        kind: incident.kind,
        regions: incident.regions.join(","),
      });
    }
    if (change.notifications.length > 0) delivery.wake();
  }

  const consumer = await startConsumer({
    kafka: run.kafka,
    topic: settings.kafka.topic,
    groupId: settings.kafka.alertGroupId,
    sessionTimeoutMs: settings.kafka.sessionTimeoutMs,
    // A new alerter does not notify the topic's whole history.
    startAt: "latest",
    log,
    handle: (batch) =>
      serial(async () => {
        const results = decodeBatch(batch).flatMap((message) =>
          "result" in message ? [message.result] : []
        );
        await apply(resultEvents(results));
        metrics.consumerLag.set({ partition: String(batch.partition) }, batch.lag);
      }),
  });
  log.info("alerting", { sites: sites.size, channels: run.channels.length });
  const ticker = startTicks(run, (at) => serial(() => apply(tickEvents(sites.keys(), at))));
  try {
    await Promise.race([whenAborted(run.signal), consumer.crashed]);
  } finally {
    ticker.stop();
    await consumer.stop();
    await delivery.stop();
    log.info("alerter stopped");
  }
}

/**
 * Every {@link TICK_MS}, judges silence as of the previous tick, once everything published before
 * that tick has been handled (its results saved and their offsets committed): results waiting on
 * the topic, or a batch that cannot be saved, are not silence. One tick at a time.
 */
function startTicks(
  run: Pick<AlerterRun, "kafka" | "settings" | "log">,
  tick: (at: string) => Promise<void>,
): { stop(): void } {
  const { topic, alertGroupId: groupId } = run.settings.kafka;
  let mark: { readonly at: string; readonly ends: readonly bigint[] } | undefined;
  let ticking = false;
  const timer = setInterval(async () => {
    if (ticking) return;
    ticking = true;
    try {
      const at = new Date().toISOString();
      const { ends, committed } = await groupProgress(run.kafka, { topic, groupId });
      const previous = mark;
      mark = { at, ends };
      // (A partition without a commit: the group started at its end, with nothing to read.)
      const handled = previous?.ends.every((end, p) => (committed[p] ?? end) >= end) ?? false;
      if (previous !== undefined && handled) await tick(previous.at);
    } catch (error) {
      run.log.warn("silence not judged this time", { error: (error as Error).message });
    } finally {
      ticking = false;
    }
  }, TICK_MS);
  return { stop: () => clearInterval(timer) };
}

/**
 * The `notifications` table as the delivery loops see it. A claimed notification is another
 * claim's again once the channel's timeout and a margin have passed: a sender killed mid-send
 * leaves it for the next alerter for no longer than that.
 */
function outboxIn(sql: Sql, channels: readonly ChannelConfig[]): Outbox {
  const leaseMs = new Map(channels.map((c) => [c.name, c.timeoutMs + LEASE_MARGIN_MS]));
  return {
    due: (channel, { limit, now }) =>
      claimDueNotifications(sql, { channel, limit, now, leaseMs: leaseMs.get(channel)! }),
    sent: (id, at) => markNotificationSent(sql, id, at),
    failed: (id, failure) => markNotificationFailed(sql, id, failure),
  };
}

/** Runs the functions given to it one at a time, in order: batches and ticks share the states. */
function serialized(): <T>(fn: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const next = last.then(fn);
    last = next.catch(() => {});
    return next;
  };
}
