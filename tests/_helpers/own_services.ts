/**
 * A Kafka broker or PostgreSQL server of a test's own, from scripts/services.sh with a state
 * directory and ports of its own, so that a fault test can stop and start it without disturbing
 * any other test.
 *
 * @module
 */
import assert from "node:assert/strict";

const SERVICES = new URL("../../scripts/services.sh", import.meta.url).pathname;

/** A service the test starts and stops. */
export interface OwnService extends AsyncDisposable {
  /** KAFKA_BROKERS or DATABASE_URL for it. */
  readonly env: Record<string, string>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `count` free consecutive ports below the ephemeral range (32768 and up): a client reconnecting
 * to a stopped service on an ephemeral port can be given that very port as its own source port and
 * then hold it, so the service could not come back.
 */
export function freePorts(count: number): number {
  for (;;) {
    const port = 20_000 + count * Math.floor(Math.random() * (12_000 / count));
    try {
      for (let i = 0; i < count; i++) {
        Deno.listen({ hostname: "127.0.0.1", port: port + i }).close();
      }
      return port;
    } catch {
      // taken: try another
    }
  }
}

async function own(
  service: "kafka" | "postgres",
  env: (port: number) => Record<string, string>,
  ports: number,
): Promise<OwnService> {
  const stateDir = await Deno.makeTempDir();
  if (Deno.uid() === 0) await Deno.chmod(stateDir, 0o755); // the postgres user must enter it
  const port = freePorts(ports);
  const run = async (command: "start" | "stop") => {
    const output = await new Deno.Command("bash", {
      args: [SERVICES, command, service],
      env: {
        MONITOR_STATE_DIR: stateDir,
        [service === "kafka" ? "MONITOR_KAFKA_PORT" : "MONITOR_PG_PORT"]: String(port),
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
  };
  return {
    env: env(port),
    start: () => run("start"),
    stop: () => run("stop"),
    async [Symbol.asyncDispose]() {
      await run("stop");
      await Deno.remove(stateDir, { recursive: true });
    },
  };
}

/** A broker of the test's own (not started yet). */
export function ownBroker(): Promise<OwnService> {
  return own("kafka", (port) => ({ KAFKA_BROKERS: `127.0.0.1:${port}` }), 4);
}

/** A PostgreSQL server of the test's own (not started yet). */
export function ownPostgres(): Promise<OwnService> {
  return own(
    "postgres",
    (port) => ({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres` }),
    1,
  );
}
