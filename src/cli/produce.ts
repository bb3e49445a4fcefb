/**
 * `monitor produce`: checks every site on its interval and publishes each result to Kafka.
 *
 * @module
 */
import { checkSite } from "../check/check_site.ts";
import { deniedNetworks } from "../check/denied_networks.ts";
import type { Settings } from "../config/settings.ts";
import { loadSites, type SiteConfig } from "../config/sites.ts";
import type { KafkaClient } from "../kafka/client.ts";
import { openPublisher } from "../kafka/producer.ts";
import type { Logger } from "../log.ts";
import { runOnce } from "../schedule/run_once.ts";
import { startScheduler } from "../schedule/scheduler.ts";
import { type CliContext, prepare, SUMMARY_INTERVAL_MS, whenAborted } from "./context.ts";
import { openKafka, openWhenAvailable } from "./connect.ts";
import { observe } from "./observe.ts";
import type { Metrics } from "../metrics.ts";
import { type ReloadSource, watchSites } from "./reload.ts";

/** Options of `monitor produce`. */
export interface ProduceOptions {
  /** The sites file. */
  readonly config: string;
  /** Check every site once, publish, and exit, instead of running until stopped. */
  readonly once?: boolean;
}

/**
 * Runs `monitor produce`.
 *
 * @param options Parsed arguments.
 * @param context Environment, signal and output.
 * @throws {ConfigError} Before connecting to anything, when the sites file is invalid.
 */
export async function produceCommand(options: ProduceOptions, context: CliContext): Promise<void> {
  const sites = await loadSites(options.config, context.env);
  const { settings, log } = prepare(context);
  const once = options.once ?? false;
  // A one-off run fails at once; a long-running producer waits for Kafka instead of exiting.
  const kafka = once
    ? await openKafka(settings, log)
    : await openWhenAvailable(() => openKafka(settings, log), { log, signal: context.signal });
  if (kafka === undefined) return;
  const { metrics, close } = observe(settings, { kafka }, log);
  try {
    await runProducer({
      sites,
      settings,
      kafka,
      log,
      metrics,
      signal: context.signal,
      once,
      reload: { path: options.config, env: context.env, ...hangupsOf(context) },
    });
  } finally {
    await close();
  }
}

/** What {@link runProducer} needs. */
export interface ProducerRun {
  readonly sites: readonly SiteConfig[];
  readonly settings: Settings;
  readonly kafka: KafkaClient;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly signal: AbortSignal;
  readonly once: boolean;
  /** Where to reload the sites from on SIGHUP or a change; without it the sites are fixed. */
  readonly reload?: ReloadSource;
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

  async function check(site: SiteConfig, signal: AbortSignal): Promise<void> {
    const endTimer = metrics.checkDuration.startTimer();
    // checkSite rejects only when called off; anything else is a bug and goes on up.
    const result = await checkSite(site, { signal, denied }).catch((error) => {
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

  log.info("producing", { sites: sites.length, topic: settings.kafka.topic });
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
      const watching = run.reload === undefined
        ? Promise.resolve()
        : watchSites(run.reload, (next) => scheduler.update(next), { log, signal: run.signal });
      await whenAborted(run.signal);
      clearInterval(summary);
      await watching;
      const graceMs = Math.round(shutdown.leftMs(1 - CHECKS_SHARE_OF_SHUTDOWN));
      log.info("stopping: finishing checks in progress", { graceMs });
      await scheduler.stop({ graceMs });
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
