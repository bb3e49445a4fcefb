/**
 * `monitor alert`: reads the check results in a consumer group of its own, runs each site's
 * incident state machine, and writes the states, incidents and notifications (the outbox) in one
 * transaction before the offsets are committed; one delivery loop per channel sends the outbox.
 * One alerter works at a time (a database lock); another one started waits to take over.
 *
 * @module
 */
import type { ChannelConfig } from "../alert/channels/config.ts";
import { createChannel } from "../alert/channels/mod.ts";
import { type AlertedSite, decide, resultEvents, tickEvents } from "../alert/decide.ts";
import type { AlertEvent } from "../alert/incidents.ts";
import { type Delivery, type Outbox, startDelivery } from "../alert/deliver.ts";
import type { AlertState } from "../alert/state.ts";
import { loadAlertConfig } from "../sites/file.ts";
import type { Settings } from "../config/settings.ts";
import {
  type AlerterLock,
  loadAlertStates,
  lockAlerter,
  markNotificationFailed,
  markNotificationSent,
  nextNotification,
  saveAlertChange,
} from "../db/alerts.ts";
import type { Sql } from "../db/client.ts";
import { endOffsets } from "../kafka/admin.ts";
import type { KafkaClient } from "../kafka/client.ts";
import { decodeBatch } from "../kafka/codec.ts";
import { type RunningConsumer, startConsumer } from "../kafka/consumer.ts";
import { ServiceError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { type CliContext, prepare, whenAborted } from "./context.ts";
import { withServices } from "./services.ts";

/** How often silence is looked for. */
const TICK_MS = 5_000;

/**
 * Runs `monitor alert` until the context's signal is aborted.
 *
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
  const sites = new Map(config.sites.map((site) => [site.id, {
    rule: site.alert,
    name: site.name,
    url: site.urlAsWritten,
  }]));
  const channels = [...config.channels.values()];
  await withServices(
    settings,
    { log, signal },
    (services) => runAlerter({ ...services, sites, channels, settings, log, signal }),
  );
}

/** What {@link runAlerter} needs. */
interface AlerterRun {
  readonly sites: ReadonlyMap<string, AlertedSite>;
  readonly channels: readonly ChannelConfig[];
  readonly settings: Settings;
  readonly kafka: KafkaClient;
  readonly sql: Sql;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly signal: AbortSignal;
}

/** Alerts until the signal is aborted; throws when the consumer crashed beyond its restarts. */
async function runAlerter(run: AlerterRun): Promise<void> {
  const { settings, sql, log, metrics } = run;
  const lock = await lockAlerter(sql, settings.kafka.alertGroupId, {
    signal: run.signal,
    waiting: () => log.info("another alerter is at work: waiting to take over"),
  });
  if (lock === undefined) return;
  const delivery = startDelivery(run.channels.map((c) => createChannel(c)), outboxIn(sql), {
    log,
    onOutcome: (channel, outcome, latencyMs) => {
      metrics.notifications.inc({ channel, outcome });
      if (outcome === "sent") metrics.notificationLatency.observe({ channel }, latencyMs / 1000);
    },
  });
  try {
    await alertWithDelivery(run, delivery, lock);
  } finally {
    await delivery.stop();
    await lock.release();
  }
}

async function alertWithDelivery(
  run: AlerterRun,
  delivery: Delivery,
  lock: AlerterLock,
): Promise<void> {
  const { sites, settings, sql, log, metrics } = run;
  // Kept in memory by the one alerter at work; the database has them for the next one.
  const states = new Map<string, AlertState>(await loadAlertStates(sql));
  const serial = serialized();

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

  const joining = startConsumer({
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
  // (The client retries a join without end: a stop does not wait for it.)
  const consumer = await Promise.race([joining, whenAborted(run.signal).then(() => undefined)]);
  if (consumer === undefined) {
    joining.then((late) => late.stop(), () => {});
    return;
  }
  log.info("alerting", { sites: sites.size, channels: run.channels.length });
  const lost = new AbortController();
  const ticker = startTicks(
    { ...run, consumer, lock, lost },
    (at) => serial(() => apply(tickEvents(sites.keys(), at))),
  );
  try {
    await Promise.race([whenAborted(AbortSignal.any([run.signal, lost.signal])), consumer.crashed]);
    if (lost.signal.aborted) throw lost.signal.reason;
  } finally {
    await ticker.stop();
    await consumer.stop();
    log.info("alerter stopped");
  }
}

/** Ten minutes of ticks' marks, kept while the alerter is behind. */
const MARKS_KEPT = 120;

/**
 * Every {@link TICK_MS}, judges silence as of the newest earlier tick up to which every result
 * published has been handled: results waiting on the topic, or a batch that cannot be saved, are
 * not silence. Also makes sure that the lock is still held.
 */
function startTicks(
  run: Pick<AlerterRun, "kafka" | "settings" | "log"> & {
    readonly consumer: RunningConsumer;
    readonly lock: AlerterLock;
    readonly lost: AbortController;
  },
  tick: (at: string) => Promise<void>,
): { stop(): Promise<void> } {
  const { topic } = run.settings.kafka;
  let marks: { readonly at: string; readonly ends: readonly bigint[] }[] = [];
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function once(): Promise<void> {
    const lock = await run.lock.state();
    if (lock === "lost") {
      run.lost.abort(
        new ServiceError("The alerter lost its database lock: another may be at work"),
      );
      return;
    }
    // Most likely still held; silence is not judged meanwhile, in case another alerter is at work.
    if (lock === "unknown") {
      run.log.warn("could not make sure that this alerter still holds its lock: asking again");
      return;
    }
    const at = new Date().toISOString();
    marks = [...marks, { at, ends: await endOffsets(run.kafka, topic) }].slice(-MARKS_KEPT);
    // The newest mark is this very moment: judged at the next tick, once its ends are handled.
    const handled = marks.slice(0, -1).findLastIndex((mark) => run.consumer.handledUpTo(mark.ends));
    if (handled < 0) return;
    const judged = marks[handled]!;
    marks = marks.slice(handled + 1);
    if (!stopped) await tick(judged.at);
  }

  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = once().catch((error) => {
      run.log.warn("silence not judged this time", { error: (error as Error).message });
    }).finally(() => busy = false);
  }, TICK_MS);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

function outboxIn(sql: Sql): Outbox {
  return {
    next: (channel, now) => nextNotification(sql, channel, now),
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
