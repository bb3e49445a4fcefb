/**
 * What the monitor counts and measures, as Prometheus metrics (`./prometheus.ts`) in a registry of
 * its own, so that two monitors in one process (tests) never share counters. `produce` and
 * `consume` record into it; `--metrics-port` serves it.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "./prometheus.ts";

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
  /** Requests `monitor serve` answered, by route pattern and status. */
  readonly serveRequests: Counter<"route" | "status">;
  /** Time to answer a request, by route pattern. */
  readonly serveDuration: Histogram<"route">;
  /** Requests `monitor serve` could not answer because a database read failed. */
  readonly serveDatabaseErrors: Counter;
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
 * assert.match(metrics.registry.metrics(), /^monitor_checks_total\{site="home",outcome="up"\} 1$/m);
 * ```
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const add = registry.register.bind(registry);
  return {
    registry,
    checks: add(
      new Counter(
        "monitor_checks_total",
        "Checks done, by site and outcome (up, or the error kind)",
        ["site", "outcome"],
      ),
    ),
    checkDuration: add(
      new Histogram("monitor_check_duration_seconds", "Wall time of each check", SECONDS),
    ),
    checkStartLag: add(
      new Histogram(
        "monitor_check_start_lag_seconds",
        "How long after its planned time each check started (waiting for CHECK_CONCURRENCY, a busy process)",
        [0.001, ...SECONDS],
      ),
    ),
    publishDuration: add(
      new Histogram(
        "monitor_publish_duration_seconds",
        "Time for Kafka to acknowledge a batch of results",
        SECONDS,
      ),
    ),
    publishBuffered: add(new Gauge("monitor_publish_buffered", "Results waiting to be published")),
    publishDropped: add(
      new Gauge(
        "monitor_publish_dropped",
        "Results dropped since start: buffer overflow, or shutdown before Kafka took them",
      ),
    ),
    messagesConsumed: add(
      new Counter(
        "monitor_messages_consumed_total",
        "Messages read from the topic and stored (or dead-lettered)",
      ),
    ),
    rowsWritten: add(
      new Counter("monitor_rows_written_total", "Checks inserted into the database"),
    ),
    rowsDuplicate: add(
      new Counter("monitor_rows_duplicate_total", "Checks delivered again and already stored"),
    ),
    deadLettered: add(
      new Counter("monitor_dead_lettered_total", "Unreadable messages kept in rejected_messages"),
    ),
    batchDuration: add(
      new Histogram(
        "monitor_batch_duration_seconds",
        "Time to store one batch, retries included",
        SECONDS,
      ),
    ),
    consumerLag: add(
      new Gauge(
        "monitor_consumer_lag",
        "Messages on the partition not yet consumed, as of its latest batch",
        ["partition"],
      ),
    ),
    incidents: add(
      new Counter(
        "monitor_incidents_total",
        "Incidents opened and resolved, by kind and transition",
        ["kind", "transition"],
      ),
    ),
    notifications: add(
      new Counter(
        "monitor_notifications_total",
        "Attempts to deliver a notification, by channel and outcome (sent or failed)",
        ["channel", "outcome"],
      ),
    ),
    notificationLatency: add(
      new Histogram(
        "monitor_notification_latency_seconds",
        "From the check that opened or resolved an incident to its notification's delivery",
        SECONDS,
        ["channel"],
      ),
    ),
    serveRequests: add(
      new Counter(
        "monitor_serve_requests_total",
        "Requests monitor serve answered, by route pattern and status",
        ["route", "status"],
      ),
    ),
    serveDuration: add(
      new Histogram(
        "monitor_serve_request_duration_seconds",
        "Time to answer a request, by route pattern",
        [0.001, ...SECONDS],
        ["route"],
      ),
    ),
    serveDatabaseErrors: add(
      new Counter(
        "monitor_serve_database_errors_total",
        "Requests monitor serve could not answer because a database read failed",
      ),
    ),
  };
}
