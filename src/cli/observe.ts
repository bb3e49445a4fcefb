/**
 * The `--metrics-port` endpoint: `/metrics`, and `/healthz`, which answers 200 only when every
 * service the process needs answers a probe now (503 naming what failed, never a secret), also
 * while the process still waits for them.
 *
 * @module
 */
import { settledWithin } from "../backoff.ts";
import type { Settings } from "../config/settings.ts";
import { pingDatabase, type Sql } from "../db/client.ts";
import { type ClusterProbe, clusterProbe } from "../kafka/admin.ts";
import type { KafkaClient } from "../kafka/client.ts";
import type { Logger } from "../log.ts";
import { createMetrics, type Metrics } from "../metrics.ts";
import { CONTENT_TYPE } from "../prometheus.ts";

type Probe = () => Promise<void>;

const PROBE_TIMEOUT_MS = 3_000;

/** A service that `/healthz` reports on. */
export type ServiceName = "kafka" | "database";

/** What `/healthz` says of the services a command needs. */
export type Health = ReturnType<typeof serviceHealth>;

/**
 * What `/healthz` says of the services in `needs`: each one unreachable until it is reached, then
 * the state of a probe ("ok", or "unreachable: " and why).
 */
export function serviceHealth(needs: readonly ServiceName[]) {
  const failing = (reason: string): Probe => () => Promise.reject(new Error(reason));
  const probes: Record<string, Probe> = {};
  for (const service of needs) probes[service] = failing("not connected yet");
  let cluster: ClusterProbe | undefined;
  return {
    /** Until the service is reached, `/healthz` gives this reason it is not. */
    unreachable(service: ServiceName, reason: string) {
      probes[service] = failing(reason);
    },
    /** From now on, `/healthz` probes these services. */
    reached({ kafka, sql }: { readonly kafka?: KafkaClient; readonly sql?: Sql }) {
      // The cluster's probe is made on the first request: most processes are never asked.
      if (kafka !== undefined) probes.kafka = () => (cluster ??= clusterProbe(kafka)).probe();
      if (sql !== undefined) probes.database = () => pingDatabase(sql);
    },
    async report(): Promise<Record<string, string>> {
      const states = Object.entries(probes).map(async ([name, probe]) => {
        const outcome = await settledWithin(Promise.try(probe), PROBE_TIMEOUT_MS);
        if (outcome.status === "fulfilled") return [name, "ok"];
        const why = outcome.status === "rejected"
          ? (outcome.reason as Error).message
          : "no answer within 3 s";
        return [name, `unreachable: ${why}`];
      });
      return Object.fromEntries(await Promise.all(states));
    },
    close: async () => await cluster?.close(),
  };
}

/**
 * Creates the metrics and, when METRICS_PORT is set, serves them at once with the health of the
 * services in `needs`.
 */
export function observe(
  settings: Settings,
  needs: readonly ServiceName[],
  log: Logger,
): Health & { readonly metrics: Metrics } {
  const metrics = createMetrics();
  const health = serviceHealth(needs);
  if (settings.metricsPort === null) return { ...health, metrics };
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
        const report = await health.report();
        const healthy = Object.values(report).every((status) => status === "ok");
        return Response.json(report, { status: healthy ? 200 : 503 });
      }
      return new Response("Not found: try /metrics or /healthz\n", { status: 404 });
    },
  );
  log.info("metrics and health served", { port: server.addr.port, paths: "/metrics /healthz" });
  return {
    ...health,
    metrics,
    async close() {
      await server.shutdown();
      await health.close();
    },
  };
}
