/**
 * The `--metrics-port` endpoint: `/metrics`, and `/healthz`, which answers 200 only when every
 * service the process needs answers a probe now (503 naming what failed, never a secret), also
 * while the process still waits for them.
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import { pingDatabase, type Sql } from "../db/client.ts";
import { type ClusterProbe, clusterProbe } from "../kafka/admin.ts";
import type { KafkaClient } from "../kafka/client.ts";
import type { Logger } from "../log.ts";
import { createMetrics, type Metrics } from "../metrics.ts";
import { CONTENT_TYPE } from "../prometheus.ts";

/** A check that a service answers; rejects when it does not. */
type Probe = () => Promise<void>;

const PROBE_TIMEOUT_MS = 3_000;

/** A service that `/healthz` reports on. */
export type ServiceName = "kafka" | "database";

/** The metrics of a command, and the endpoint serving them if one was asked for. */
interface Observation {
  readonly metrics: Metrics;
  /** Until the service is reached, `/healthz` gives this reason it is not. */
  unreachable(service: ServiceName, reason: string): void;
  /** From now on, `/healthz` probes these services. */
  reached(services: { readonly kafka?: KafkaClient; readonly sql?: Sql }): void;
  close(): Promise<void>;
}

/**
 * Creates the metrics and, when METRICS_PORT is set, serves them at once, with a `/healthz` that
 * reports each service in `needs` unreachable until it is reached, and then probes it.
 */
export function observe(
  settings: Settings,
  needs: readonly ServiceName[],
  log: Logger,
): Observation {
  const metrics = createMetrics();
  if (settings.metricsPort === null) {
    return { metrics, unreachable() {}, reached() {}, close: () => Promise.resolve() };
  }
  const failing = (reason: string): Probe => () => Promise.reject(new Error(reason));
  const probes: Record<string, Probe> = {};
  for (const service of needs) probes[service] = failing("not connected yet");
  let cluster: ClusterProbe | undefined;
  // On all interfaces: Prometheus scrapes from elsewhere.
  const server = Deno.serve(
    { hostname: "0.0.0.0", port: settings.metricsPort, onListen() {} },
    async (request) => {
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
    },
  );
  log.info("metrics and health served", { port: server.addr.port, paths: "/metrics /healthz" });
  return {
    metrics,
    unreachable(service, reason) {
      probes[service] = failing(reason);
    },
    reached({ kafka, sql }) {
      if (kafka !== undefined) {
        const probe = cluster = clusterProbe(kafka);
        probes.kafka = () => probe.probe();
      }
      if (sql !== undefined) probes.database = () => pingDatabase(sql);
    },
    async close() {
      await server.shutdown();
      await cluster?.close();
    },
  };
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
