/**
 * `monitor alert`: reads the check results in a consumer group of its own
 * (`KAFKA_ALERT_GROUP_ID`), runs each site's incident state machine, and writes the new states,
 * the incidents and their notifications (the outbox) in one transaction, before the offsets are
 * committed; delivery loops, one per channel, send the outbox. A tick every few seconds lets
 * silence open `stale` incidents. Run one alerter per group: it keeps the states in memory.
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
  markNotificationFailed,
  markNotificationSent,
  saveAlertChange,
} from "../db/alerts.ts";
import type { Sql } from "../db/client.ts";
import { requireMigrated } from "../db/migrate.ts";
import type { KafkaClient } from "../kafka/client.ts";
import { decodeBatch } from "../kafka/codec.ts";
import { startConsumer } from "../kafka/consumer.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { type CliContext, prepare, whenAborted } from "./context.ts";
import { openDatabase, openKafka, openWhenAvailable } from "./connect.ts";
import { observe } from "./observe.ts";

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
  const sql = await openWhenAvailable(() => openDatabase(settings), { log, signal });
  if (sql === undefined) return;
  try {
    await requireMigrated(sql);
    const kafka = await openWhenAvailable(() => openKafka(settings, log), { log, signal });
    if (kafka === undefined) return;
    const { metrics, close } = observe(settings, { kafka, sql }, log);
    try {
      const sites = new Map(
        config.sites.map((
          site,
        ) => [site.id, { rule: site.alert, name: site.name, url: site.urlAsWritten }]),
      );
      const channels = [...config.channels.values()];
      await runAlerter({ sites, channels, settings, kafka, sql, log, metrics, signal });
    } finally {
      await close();
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
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
  // Kept in memory by the one alerter; the database has them for the next start.
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

  /** Per partition, the messages not yet read as of its latest batch. */
  const lags = new Map<number, number>();
  const consumer = await startConsumer({
    kafka: run.kafka,
    topic: settings.kafka.topic,
    groupId: settings.kafka.alertGroupId,
    sessionTimeoutMs: settings.kafka.sessionTimeoutMs,
    log,
    handle: (batch) =>
      serial(async () => {
        const results = decodeBatch(batch).flatMap((message) =>
          "result" in message ? [message.result] : []
        );
        await apply(resultEvents(results));
        lags.set(batch.partition, batch.lag);
        metrics.consumerLag.set({ partition: String(batch.partition) }, batch.lag);
      }),
  });
  log.info("alerting", { sites: sites.size, channels: run.channels.length });
  // Silence is judged only once the backlog is read: results waiting on the topic are not silence.
  const startedMs = performance.now();
  const ticker = setInterval(() => {
    const caughtUp = [...lags.values()].every((lag) => lag === 0);
    if (!caughtUp || performance.now() - startedMs < TICK_MS) return;
    serial(() => apply(tickEvents(sites.keys(), new Date().toISOString()))).catch((error) => {
      log.warn("stale check not saved, trying again", { error: (error as Error).message });
    });
  }, TICK_MS);
  try {
    await Promise.race([whenAborted(run.signal), consumer.crashed]);
  } finally {
    clearInterval(ticker);
    await consumer.stop();
    await delivery.stop();
    log.info("alerter stopped");
  }
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
