/**
 * `monitor produce`: checks every site on its interval and publishes each result to Kafka.
 *
 * @module
 */
import { getHeapStatistics } from "node:v8";
import { bodyBudget, defaultBodyBytes } from "../check/body.ts";
import { checkSite, configErrorResult, localOrigin } from "../check/check_site.ts";
import { deniedNetworks } from "../check/denied_networks.ts";
import { loadSites } from "../sites/file.ts";
import { UsageError } from "../errors.ts";
import { openPublisher } from "../kafka/producer.ts";
import { runOnce, startScheduler } from "../schedule/scheduler.ts";
import { type CheckerSite, isMisconfigured, type SitesFeed } from "../sites/checker_sites.ts";
import { followSitesTopic } from "../sites/topic.ts";
import { type CliContext, prepare, SUMMARY_INTERVAL_MS, whenAborted } from "./context.ts";
import { observe, openKafka, openService, type Services } from "./connect.ts";
import { watchSites } from "./reload.ts";

/** Runs `monitor produce`; without `config`, on its share of the sites topic's sites. */
export async function produceCommand(
  options: { readonly config?: string; readonly once?: boolean; readonly region?: string },
  outside: CliContext,
): Promise<void> {
  const { config, region, once = false } = options;
  if (config === undefined && once) {
    throw new UsageError("--once needs --config: checkers of the sites topic share it, and run");
  }
  const context = region === undefined
    ? outside
    : { ...outside, env: { ...outside.env, MONITOR_REGION: region } };
  const sites = config === undefined ? [] : await loadSites(config, context.env);
  const { settings, log } = prepare(context);
  const { signal } = context;
  const observation = observe(settings, ["kafka"], log);
  try {
    // A one-off run fails at once; a long-running producer waits for Kafka instead of exiting.
    const waiting = { log, signal, health: observation, failFast: once };
    const kafka = await openService("kafka", () => openKafka(settings, log), waiting);
    if (kafka === undefined) return;
    observation.reached({ kafka });
    const follow = config === undefined
      ? followSitesTopic(kafka, { settings, env: context.env, log })
      : watchSites(config, context, log);
    const { metrics } = observation;
    await runProducer({ sites, settings, kafka, log, metrics, signal, once, follow });
  } finally {
    await observation.close();
  }
}

interface ProducerRun extends Omit<Services, "sql"> {
  readonly sites: readonly CheckerSite[];
  readonly once: boolean;
  readonly follow: SitesFeed;
}

/** Of `SHUTDOWN_TIMEOUT_MS`, the share for checks in progress; the rest is for their publishing. */
const CHECKS_SHARE_OF_SHUTDOWN = 0.75;

/**
 * Checks and publishes until the signal is aborted (or for one round, with `once`), then within
 * `SHUTDOWN_TIMEOUT_MS` finishes the checks in progress and publishes; a check still running when
 * its share is up is abandoned (the monitor stopped, not the site): counted, never published.
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
      const following = run.follow((next) => scheduler.update(next), run.signal);
      // (A feed that fails for good stops the producer; it is reported once the checks are done.)
      await Promise.race([whenAborted(run.signal), following.catch(() => {})]);
      clearInterval(summary);
      await following.catch(() => {});
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

/** The shutdown time left, from when the signal is aborted, less `reservedShare` of the whole. */
function shutdownBudget(signal: AbortSignal, timeoutMs: number) {
  let deadlineMs = Infinity;
  const start = () => deadlineMs = performance.now() + timeoutMs;
  if (signal.aborted) start();
  else signal.addEventListener("abort", start, { once: true });
  return {
    leftMs(reservedShare: number) {
      const leftMs = Math.min(timeoutMs, deadlineMs - performance.now());
      return Math.max(0, leftMs - reservedShare * timeoutMs);
    },
    [Symbol.dispose]: () => signal.removeEventListener("abort", start),
  };
}
