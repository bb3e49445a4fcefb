/**
 * The `--metrics-port` endpoint: Prometheus metrics on `/metrics`, and `/healthz`, which answers
 * 200 only when every service the process needs answers a probe right now (503 otherwise, naming
 * what failed, never a secret).
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import { pingDatabase, type Sql } from "../db/client.ts";
import { clusterProbe } from "../kafka/admin.ts";
import type { KafkaClient } from "../kafka/client.ts";
import type { Logger } from "../log.ts";
import { createMetrics, type Metrics } from "../metrics.ts";
import { CONTENT_TYPE } from "../prometheus.ts";

/** A check that a service answers; rejects when it does not. */
type Probe = () => Promise<void>;

const PROBE_TIMEOUT_MS = 3_000;

/** The metrics of a command, and the endpoint serving them if one was asked for. */
export interface Observation {
  readonly metrics: Metrics;
  /** Stops the endpoint and its probes. */
  close(): Promise<void>;
}

/**
 * Creates the metrics and, when METRICS_PORT (or `--metrics-port`) is set, serves them with a
 * `/healthz` that probes Kafka and, when given, the database.
 *
 * @returns The metrics to record into, and how to stop.
 *
 * @example
 * ```ts ignore
 * import { observe } from "./observe.ts";
 * const { metrics, close } = observe(settings, { kafka, sql }, log);
 * metrics.rowsWritten.inc(12);
 * await close();
 * ```
 */
export function observe(
  settings: Settings,
  services: { readonly kafka: KafkaClient; readonly sql?: Sql },
  log: Logger,
): Observation {
  const metrics = createMetrics();
  if (settings.metricsPort === null) return { metrics, close: () => Promise.resolve() };
  const cluster = clusterProbe(services.kafka);
  const kafka = () => cluster.probe();
  const { sql } = services;
  const probes = sql === undefined ? { kafka } : { kafka, database: () => pingDatabase(sql) };
  const stopServing = serveObserver(settings.metricsPort, metrics, probes, log);
  return {
    metrics,
    async close() {
      await stopServing();
      await cluster.close();
    },
  };
}

/**
 * Serves metrics and health on all interfaces (Prometheus scrapes from elsewhere).
 *
 * @param port The port; 0 picks a free one (logged).
 * @param metrics What `/metrics` shows.
 * @param probes What `/healthz` asks, by service name.
 * @param log Where the address is logged.
 * @returns How to stop serving.
 */
function serveObserver(
  port: number,
  metrics: Metrics,
  probes: Readonly<Record<string, Probe>>,
  log: Logger,
): () => Promise<void> {
  const server = Deno.serve({ hostname: "0.0.0.0", port, onListen: () => {} }, async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/metrics") {
      return new Response(metrics.registry.metrics(), {
        headers: { "content-type": CONTENT_TYPE },
      });
    }
    if (pathname === "/healthz") {
      const report = await probeAll(probes);
      const healthy = Object.values(report).every((status) => status === "ok");
      return Response.json(report, { status: healthy ? 200 : 503 });
    }
    return new Response("Not found: try /metrics or /healthz\n", { status: 404 });
  });
  const listening = (server.addr as Deno.NetAddr).port;
  log.info("metrics and health served", { port: listening, paths: "/metrics /healthz" });
  return () => server.shutdown();
}

async function probeAll(probes: Readonly<Record<string, Probe>>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer within 3 s")), PROBE_TIMEOUT_MS);
      });
      try {
        await Promise.race([probe(), timeout]);
        return [name, "ok"] as const;
      } catch (error) {
        return [name, `unreachable: ${(error as Error).message}`] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}
