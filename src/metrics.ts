/**
 * What the monitor counts and measures, in a registry of its own (two monitors in one process, as
 * in tests, never share counters). `--metrics-port` serves it.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "./prometheus.ts";

/** Seconds, from 5 ms to 30 s: checks, sends and batch writes all fall in this range. */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The monitor's metrics; each one's help text says what it is. */
export type Metrics = ReturnType<typeof createMetrics>;

/** Creates the metrics in a new registry. */
export function createMetrics() {
  const registry = new Registry();
  const counter = <L extends string = never>(name: string, help: string, labels?: L[]) =>
    registry.register(new Counter<L>(name, help, labels));
  const gauge = <L extends string = never>(name: string, help: string, labels?: L[]) =>
    registry.register(new Gauge<L>(name, help, labels));
  const histogram = <L extends string = never>(
    name: string,
    help: string,
    buckets = SECONDS,
    labels?: L[],
  ) => registry.register(new Histogram<L>(name, help, buckets, labels));
  return {
    registry,
    checks: counter(
      "monitor_checks_total",
      "Checks done, by site and outcome (up, or the error kind)",
      ["site", "outcome"],
    ),
    checkDuration: histogram("monitor_check_duration_seconds", "Wall time of each check"),
    checkStartLag: histogram(
      "monitor_check_start_lag_seconds",
      "How long after its planned time each check started (waiting for CHECK_CONCURRENCY, a busy process)",
      [0.001, ...SECONDS],
    ),
    publishDuration: histogram(
      "monitor_publish_duration_seconds",
      "Time for Kafka to acknowledge a batch of results",
    ),
    publishBuffered: gauge("monitor_publish_buffered", "Results waiting to be published"),
    publishDropped: gauge(
      "monitor_publish_dropped",
      "Results dropped since start: buffer overflow, or shutdown before Kafka took them",
    ),
    messagesConsumed: counter(
      "monitor_messages_consumed_total",
      "Messages read from the topic and stored (or dead-lettered)",
    ),
    rowsWritten: counter("monitor_rows_written_total", "Checks inserted into the database"),
    rowsDuplicate: counter(
      "monitor_rows_duplicate_total",
      "Checks delivered again and already stored",
    ),
    deadLettered: counter(
      "monitor_dead_lettered_total",
      "Unreadable messages kept in rejected_messages",
    ),
    batchDuration: histogram(
      "monitor_batch_duration_seconds",
      "Time to store one batch, retries included",
    ),
    consumerLag: gauge(
      "monitor_consumer_lag",
      "Messages on the partition not yet consumed, as of its latest batch",
      ["partition"],
    ),
    incidents: counter(
      "monitor_incidents_total",
      "Incidents opened and resolved, by kind and transition",
      ["kind", "transition"],
    ),
    notifications: counter(
      "monitor_notifications_total",
      "Attempts to deliver a notification, by channel and outcome (sent or failed)",
      ["channel", "outcome"],
    ),
    notificationLatency: histogram(
      "monitor_notification_latency_seconds",
      "From the check that opened or resolved an incident to its notification's delivery",
      SECONDS,
      ["channel"],
    ),
    serveRequests: counter(
      "monitor_serve_requests_total",
      "Requests monitor serve answered, by route pattern and status",
      ["route", "status"],
    ),
    serveDuration: histogram(
      "monitor_serve_request_duration_seconds",
      "Time to answer a request, by route pattern",
      [0.001, ...SECONDS],
      ["route"],
    ),
    serveDatabaseErrors: counter(
      "monitor_serve_database_errors_total",
      "Requests monitor serve could not answer because a database read failed",
    ),
  };
}
