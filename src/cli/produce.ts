/**
 * `monitor produce`: checks every site on its interval and publishes each result to Kafka.
 *
 * @module
 */
import { getHeapStatistics } from "node:v8";
import { bodyBudget, defaultBodyBytes } from "../check/body_budget.ts";
import { checkSite } from "../check/check_site.ts";
import { configErrorResult } from "../check/config_error.ts";
import { deniedNetworks } from "../check/denied_networks.ts";
import { localOrigin } from "../check/origin.ts";
import type { Settings } from "../config/settings.ts";
import { loadSites } from "../sites/file.ts";
import { UsageError } from "../errors.ts";
import { endOffsets } from "../kafka/admin.ts";
import { followAssignedRows } from "../kafka/assigned.ts";
import type { KafkaClient } from "../kafka/client.ts";
import { openPublisher } from "../kafka/producer.ts";
import type { Logger } from "../log.ts";
import { runOnce } from "../schedule/run_once.ts";
import { startScheduler } from "../schedule/scheduler.ts";
import { type CheckerSite, checkerSites, isMisconfigured } from "../sites/checker_sites.ts";
import { ensureSitesTopic } from "../sites/topic.ts";
import { type CliContext, prepare, SUMMARY_INTERVAL_MS, whenAborted } from "./context.ts";
import { openKafka, openWhenAvailable } from "./connect.ts";
import { observe } from "./observe.ts";
import type { Metrics } from "../metrics.ts";
import { watchSites } from "./reload.ts";

/** Options of `monitor produce`. */
export interface ProduceOptions {
  /**
   * The sites file. Without it the sites come from the sites topic, shared with the other
   * checkers of the region.
   */
  readonly config?: string;
  /** Check every site once, publish, and exit, instead of running until stopped. */
  readonly once?: boolean;
  /** The region to check from; overrides `MONITOR_REGION`. */
  readonly region?: string;
}

/**
 * Runs `monitor produce`.
 *
 * @param options Parsed arguments.
 * @param context Environment, signal and output.
 * @throws {ConfigError} Before connecting to anything, when the sites file is invalid.
 */
export async function produceCommand(
  options: ProduceOptions,
  outside: CliContext,
): Promise<void> {
  const { config, region } = options;
  const once = options.once ?? false;
  if (config === undefined && once) {
    throw new UsageError("--once needs --config: checkers of the sites topic share it, and run");
  }
  const context = region === undefined
    ? outside
    : { ...outside, env: { ...outside.env, MONITOR_REGION: region } };
  const sites = config === undefined ? [] : await loadSites(config, context.env);
  const { settings, log } = prepare(context);
  // Served from the start, so that /healthz says so while Kafka is awaited.
  const observation = observe(settings, ["kafka"], log);
  try {
    // A one-off run fails at once; a long-running producer waits for Kafka instead of exiting.
    const kafka = once
      ? await openKafka(settings, log)
      : await openWhenAvailable(() => openKafka(settings, log), {
        log,
        signal: context.signal,
        onUnreachable: (reason) => observation.unreachable("kafka", reason),
      });
    if (kafka === undefined) return;
    observation.reached({ kafka });
    await runProducer({
      sites,
      settings,
      kafka,
      log,
      metrics: observation.metrics,
      signal: context.signal,
      once,
      follow: config === undefined
        ? (apply, signal) =>
          followSitesTopic(kafka, { settings, env: context.env, log }, apply, signal)
        : (apply, signal) =>
          watchSites({ path: config, env: context.env, ...hangupsOf(context) }, apply, {
            log,
            signal,
          }),
    });
  } finally {
    await observation.close();
  }
}

/**
 * Where changes to the sites come from: calls `apply` with each new set until `signal` is
 * aborted, then resolves.
 */
export type SitesFeed = (
  apply: (sites: readonly CheckerSite[]) => void,
  signal: AbortSignal,
) => Promise<void>;

/** What {@link runProducer} needs. */
export interface ProducerRun {
  /** The sites to start with. */
  readonly sites: readonly CheckerSite[];
  readonly settings: Settings;
  readonly kafka: KafkaClient;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly signal: AbortSignal;
  readonly once: boolean;
  /** Changes to the sites; without it they are fixed. */
  readonly follow?: SitesFeed;
}

/**
 * The sites of the sites topic that the consumer group of this checker's region assigns to it,
 * as they change, until `signal` is aborted; then leaves the group, so that the region's other
 * checkers take its sites over at once.
 *
 * @throws {Error} When the group member fails for good.
 */
async function followSitesTopic(
  kafka: KafkaClient,
  context: {
    readonly settings: Settings;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly log: Logger;
  },
  apply: (sites: readonly CheckerSite[]) => void,
  signal: AbortSignal,
): Promise<void> {
  const { settings, env, log } = context;
  const { sitesTopic: topic, sitesPartitions: partitions } = settings.kafka;
  const replicationFactor = settings.kafka.topicReplicationFactor;
  const groupId = `monitor-checkers-${settings.region}`;
  log.info(
    "no --config: checking the sites of the sites topic that the region's checkers share (--config FILE checks a file instead)",
    { topic, groupId, region: settings.region },
  );
  // Neither step heeds the signal (the client retries without end): a stop does not wait for them.
  const stopped = whenAborted(signal).then(() => undefined);
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
  const joining = followAssignedRows({
    kafka,
    topic,
    groupId,
    sessionTimeoutMs: settings.kafka.sessionTimeoutMs,
    log,
    onChange: (rows) => apply(sitesOf(rows)),
  });
  const member = await Promise.race([joining, stopped]);
  if (member === undefined) {
    joining.then((late) => late.stop(), () => {});
    return;
  }
  try {
    await Promise.race([whenAborted(signal), member.crashed]);
  } finally {
    await member.stop();
  }
}

/** The context's hangup events, if it has them, as an optional property. */
export function hangupsOf(context: CliContext): { hangups?: EventTarget } {
  return context.hangups === undefined ? {} : { hangups: context.hangups };
}

/**
 * Of `SHUTDOWN_TIMEOUT_MS`, the share that checks in progress get to finish; the rest is kept for
 * publishing their results, so a check ending at its last moment is not lost.
 */
const CHECKS_SHARE_OF_SHUTDOWN = 0.75;

/**
 * Checks and publishes until the signal is aborted (or, with `once`, after one round), then
 * finishes the checks in progress and publishes everything before returning, within
 * `SHUTDOWN_TIMEOUT_MS` of the signal (plus disconnecting).
 *
 * A check still running when its share of that time is up is called off. It is abandoned: no
 * result is published and none is counted in the metrics, since the site did not fail, the monitor
 * stopped; the "producer stopped" log line counts it as `abandoned`.
 */
export async function runProducer(run: ProducerRun): Promise<void> {
  const { sites, settings, kafka, log, metrics } = run;
  using shutdown = shutdownBudget(run.signal, settings.shutdownTimeoutMs);
  const publisher = await openPublisher(kafka, {
    topic: settings.kafka.topic,
    log,
    maxBufferedMessages: settings.produceBufferMessages,
    onSent: (sendMs) => {
      metrics.publishDuration.observe(sendMs / 1000);
      showPublisher();
    },
  });
  const showPublisher = () => {
    const { buffered, dropped } = publisher.stats();
    metrics.publishBuffered.set(buffered);
    metrics.publishDropped.set(dropped);
  };
  const tally = { checks: 0, down: 0, abandoned: 0 };
  const denied = deniedNetworks(settings.checkDenyNetworks);
  const origin = localOrigin(settings.region);
  // One budget for every body this checker keeps, however many sites ask for big ones.
  const bodies = bodyBudget(
    settings.checkBodyMemoryBytes ?? defaultBodyBytes(getHeapStatistics().heap_size_limit),
  );

  async function check(site: CheckerSite, signal: AbortSignal): Promise<void> {
    const endTimer = metrics.checkDuration.startTimer();
    // checkSite rejects only when called off; anything else is a bug and goes on up.
    const result = isMisconfigured(site)
      ? configErrorResult(site, { origin })
      : await checkSite(site, { signal, denied, origin, bodyBudget: bodies }).catch((error) => {
        if (!signal.aborted) throw error;
      });
    if (result === undefined) {
      tally.abandoned++;
      log.debug("check abandoned at shutdown", { site: site.id });
      return;
    }
    endTimer();
    metrics.checks.inc({ site: site.id, outcome: result.error?.kind ?? "up" });
    tally.checks++;
    if (!result.up) tally.down++;
    log.debug("checked", {
      site: site.id,
      up: result.up,
      status: result.statusCode,
      ms: result.responseTimeMs === null ? null : Math.round(result.responseTimeMs),
      error: result.error?.kind,
    });
    publisher.publish(result);
    showPublisher();
  }

  log.info("producing", {
    sites: sites.length, // (from the sites topic: none until the group assigns some)
    region: origin.region,
    checker: origin.checker,
    topic: settings.kafka.topic,
  });
  try {
    if (run.once) {
      await runOnce(sites, check, {
        concurrency: settings.checkConcurrency,
        signal: run.signal,
        graceMs: () => shutdown.leftMs(1 - CHECKS_SHARE_OF_SHUTDOWN),
      });
    } else {
      const scheduler = startScheduler(sites, check, {
        concurrency: settings.checkConcurrency,
        onSkip: (site, reason) => log.warn("check skipped", { site: site.id, reason }),
        onStart: (_site, lagMs) => metrics.checkStartLag.observe(lagMs / 1000),
      });
      const summary = setInterval(() => {
        const { skipped } = scheduler.stats();
        const { sent, buffered, dropped } = publisher.stats();
        log.info("summary", { ...tally, skipped, published: sent, buffered, dropped });
      }, SUMMARY_INTERVAL_MS);
      const following = run.follow?.((next) => scheduler.update(next), run.signal);
      // (A feed that fails for good stops the producer; it is reported once the checks are done.)
      await Promise.race([
        whenAborted(run.signal),
        following?.catch(() => {}) ?? new Promise(() => {}),
      ]);
      clearInterval(summary);
      await following?.catch(() => {});
      const graceMs = Math.round(shutdown.leftMs(1 - CHECKS_SHARE_OF_SHUTDOWN));
      log.info("stopping: finishing checks in progress", { graceMs });
      await scheduler.stop({ graceMs });
      await following;
    }
  } finally {
    await publisher.close(shutdown.leftMs(0));
    const { sent, dropped } = publisher.stats();
    log.info("producer stopped", { published: sent, dropped, abandoned: tally.abandoned });
  }
}

/** What is left of the shutdown time, which starts when the signal is aborted. */
interface ShutdownBudget extends Disposable {
  /**
   * Milliseconds until the shutdown deadline less `reservedShare` of the whole time (kept for
   * what comes after); the whole time less that share while the signal has not been aborted.
   */
  leftMs(reservedShare: number): number;
}

function shutdownBudget(signal: AbortSignal, timeoutMs: number): ShutdownBudget {
  let deadlineMs = Infinity;
  const start = () => deadlineMs = performance.now() + timeoutMs;
  if (signal.aborted) start();
  else signal.addEventListener("abort", start, { once: true });
  return {
    leftMs(reservedShare) {
      const leftMs = Math.min(timeoutMs, deadlineMs - performance.now());
      return Math.max(0, leftMs - reservedShare * timeoutMs);
    },
    [Symbol.dispose]: () => signal.removeEventListener("abort", start),
  };
}
