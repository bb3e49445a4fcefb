/**
 * `monitor alert`: turns the check results into incidents and notifies the sites' channels, one
 * alerter at a time; docs/alerts.md tells how (the outbox, the lock, silence).
 *
 * @module
 */
import type { ChannelConfig } from "../alert/channels/config.ts";
import { createChannel } from "../alert/channels/mod.ts";
import { type AlertedSite, decide, resultEvents, tickEvents } from "../alert/decide.ts";
import { type Delivery, type Outbox, startDelivery } from "../alert/deliver.ts";
import { loadAlertConfig } from "../sites/file.ts";
import {
  type AlerterLock,
  loadAlertStates,
  lockAlerter,
  markNotificationFailed,
  markNotificationSent,
  nextNotification,
  saveAlertChange,
} from "../db/alerts.ts";
import { endOffsets } from "../kafka/admin.ts";
import { decodeBatch } from "../kafka/codec.ts";
import { type RunningConsumer, startConsumer } from "../kafka/consumer.ts";
import { sleep } from "../backoff.ts";
import { ServiceError } from "../errors.ts";
import { type CliContext, whenAborted } from "./context.ts";
import { type Services, withServices } from "./connect.ts";

/** How often silence is looked for. */
const TICK_MS = 5_000;

/** Runs `monitor alert` until the context's signal is aborted; the sites file is read first. */
export async function alertCommand(
  options: { readonly config: string },
  context: CliContext,
): Promise<void> {
  const config = await loadAlertConfig(options.config, context.env);
  const sites = new Map(config.sites.map((site) => [site.id, {
    rule: site.alert,
    name: site.name,
    url: site.urlAsWritten,
  }]));
  const channels = [...config.channels.values()];
  await withServices(context, (services) => runAlerter({ ...services, sites, channels }));
}

interface AlerterRun extends Services {
  readonly sites: ReadonlyMap<string, AlertedSite>;
  readonly channels: readonly ChannelConfig[];
}

/** Alerts until the signal is aborted; throws when the consumer crashed beyond its restarts. */
async function runAlerter(run: AlerterRun): Promise<void> {
  const { settings, sql, log, metrics } = run;
  const lock = await lockAlerter(sql, settings.kafka.alertGroupId, {
    signal: run.signal,
    waiting: () => log.info("another alerter is at work: waiting to take over"),
  });
  if (lock === undefined) return;
  const outbox: Outbox = {
    next: (channel, now) => nextNotification(sql, channel, now),
    sent: (id, at) => markNotificationSent(sql, id, at),
    failed: (id, failure) => markNotificationFailed(sql, id, failure),
  };
  const delivery = startDelivery(run.channels.map((c) => createChannel(c)), outbox, {
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
  const states = await loadAlertStates(sql);
  const serial = serialized();

  async function apply(events: Parameters<typeof decide>[0]): Promise<void> {
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
  const done = new AbortController();
  const signal = AbortSignal.any([run.signal, done.signal]);
  const tick = (at: string) => serial(() => apply(tickEvents(sites.keys(), at)));
  const judging = judgeSilence({ ...run, consumer, lock, signal }, tick);
  try {
    await Promise.race([judging, consumer.crashed]);
  } finally {
    done.abort();
    await judging.catch(() => {});
    await consumer.stop();
    log.info("alerter stopped");
  }
}

/** Ten minutes of ticks' marks, kept while the alerter is behind. */
const MARKS_KEPT = 120;

/**
 * Every {@link TICK_MS}, judges silence as of the newest earlier tick up to which every result
 * published has been handled (results waiting on the topic, or a batch not saved, are not silence);
 * throws a {@link ServiceError} when the lock is lost.
 */
async function judgeSilence(
  run: AlerterRun & { readonly consumer: RunningConsumer; readonly lock: AlerterLock },
  tick: (at: string) => Promise<void>,
): Promise<void> {
  let marks: { readonly at: string; readonly ends: readonly bigint[] }[] = [];
  for (;;) {
    await sleep(TICK_MS, run.signal);
    if (run.signal.aborted) return;
    const lock = await run.lock.state();
    if (lock === "lost") {
      throw new ServiceError("The alerter lost its database lock: another may be at work");
    }
    // Most likely still held; silence is not judged meanwhile, in case another alerter is at work.
    if (lock === "unknown") {
      run.log.warn("could not make sure that this alerter still holds its lock: asking again");
      continue;
    }
    try {
      // Taken before the ends are read: every result published before `at` is within them.
      const at = new Date().toISOString();
      const ends = await endOffsets(run.kafka, run.settings.kafka.topic);
      marks = [...marks, { at, ends }].slice(-MARKS_KEPT);
      // The newest mark is this very moment: judged at the next tick, once its ends are handled.
      const handled = marks.slice(0, -1).findLastIndex((mark) =>
        run.consumer.handledUpTo(mark.ends)
      );
      if (handled < 0 || run.signal.aborted) continue;
      const judged = marks[handled]!;
      marks = marks.slice(handled + 1);
      await tick(judged.at);
    } catch (error) {
      run.log.warn("silence not judged this time", { error: (error as Error).message });
    }
  }
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
