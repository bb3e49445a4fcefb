/**
 * What the monitor counts and measures, as Prometheus metrics (`npm:prom-client`) in a registry of
 * its own, so that two monitors in one process (tests) never share counters. `produce` and
 * `consume` record into it; `--metrics-port` serves it.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Seconds, from 5 ms to 30 s: checks, sends and batch writes all fall in this range. */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The monitor's metrics. */
export interface Metrics {
  readonly registry: Registry;
  /** Checks done, by site and outcome (`up` or the error kind). */
  readonly checks: Counter<"site" | "outcome">;
  /** Wall time of each check. */
  readonly checkDuration: Histogram;
  /** How long after its plan each check started. */
  readonly checkStartLag: Histogram;
  /** Time for Kafka to acknowledge a batch of results. */
  readonly publishDuration: Histogram;
  /** Results waiting to be published. */
  readonly publishBuffered: Gauge;
  /** Results dropped because the buffer overflowed or shutdown came first. */
  readonly publishDropped: Gauge;
  /** Messages read from the topic. */
  readonly messagesConsumed: Counter;
  /** Checks inserted into the database. */
  readonly rowsWritten: Counter;
  /** Checks already stored (redeliveries). */
  readonly rowsDuplicate: Counter;
  /** Unreadable messages kept in `rejected_messages`. */
  readonly deadLettered: Counter;
  /** Time to store one batch, retries included. */
  readonly batchDuration: Histogram;
  /** Messages on each partition not yet consumed, as of the latest batch. */
  readonly consumerLag: Gauge<"partition">;
  /** Incidents opened and resolved, by kind and transition. */
  readonly incidents: Counter<"kind" | "transition">;
  /** Attempts to deliver a notification, by channel and outcome (`sent` or `failed`). */
  readonly notifications: Counter<"channel" | "outcome">;
  /** From the check that made a transition to its notification's delivery. */
  readonly notificationLatency: Histogram<"channel">;
}

/**
 * Creates the metrics in a new registry.
 *
 * @returns The metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "./metrics.ts";
 * const metrics = createMetrics();
 * metrics.checks.inc({ site: "home", outcome: "up" });
 * assert.match(await metrics.registry.metrics(), /^monitor_checks_total\{site="home",outcome="up"\} 1$/m);
 * ```
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    checks: new Counter({
      name: "monitor_checks_total",
      help: "Checks done, by site and outcome (up, or the error kind)",
      labelNames: ["site", "outcome"],
      registers,
    }),
    checkDuration: new Histogram({
      name: "monitor_check_duration_seconds",
      help: "Wall time of each check",
      buckets: SECONDS,
      registers,
    }),
    checkStartLag: new Histogram({
      name: "monitor_check_start_lag_seconds",
      help:
        "How long after its planned time each check started (waiting for CHECK_CONCURRENCY, a busy process)",
      buckets: [0.001, ...SECONDS],
      registers,
    }),
    publishDuration: new Histogram({
      name: "monitor_publish_duration_seconds",
      help: "Time for Kafka to acknowledge a batch of results",
      buckets: SECONDS,
      registers,
    }),
    publishBuffered: new Gauge({
      name: "monitor_publish_buffered",
      help: "Results waiting to be published",
      registers,
    }),
    publishDropped: new Gauge({
      name: "monitor_publish_dropped",
      help: "Results dropped since start: buffer overflow, or shutdown before Kafka took them",
      registers,
    }),
    messagesConsumed: new Counter({
      name: "monitor_messages_consumed_total",
      help: "Messages read from the topic and stored (or dead-lettered)",
      registers,
    }),
    rowsWritten: new Counter({
      name: "monitor_rows_written_total",
      help: "Checks inserted into the database",
      registers,
    }),
    rowsDuplicate: new Counter({
      name: "monitor_rows_duplicate_total",
      help: "Checks delivered again and already stored",
      registers,
    }),
    deadLettered: new Counter({
      name: "monitor_dead_lettered_total",
      help: "Unreadable messages kept in rejected_messages",
      registers,
    }),
    batchDuration: new Histogram({
      name: "monitor_batch_duration_seconds",
      help: "Time to store one batch, retries included",
      buckets: SECONDS,
      registers,
    }),
    consumerLag: new Gauge({
      name: "monitor_consumer_lag",
      help: "Messages on the partition not yet consumed, as of its latest batch",
      labelNames: ["partition"],
      registers,
    }),
    incidents: new Counter({
      name: "monitor_incidents_total",
      help: "Incidents opened and resolved, by kind and transition",
      labelNames: ["kind", "transition"],
      registers,
    }),
    notifications: new Counter({
      name: "monitor_notifications_total",
      help: "Attempts to deliver a notification, by channel and outcome (sent or failed)",
      labelNames: ["channel", "outcome"],
      registers,
    }),
    notificationLatency: new Histogram({
      name: "monitor_notification_latency_seconds",
      help: "From the check that opened or resolved an incident to its notification's delivery",
      labelNames: ["channel"],
      buckets: SECONDS,
      registers,
    }),
  };
}
