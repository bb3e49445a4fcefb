/**
 * scripts/services.sh where a newcomer runs it: as root, in a checkout under a home directory of
 * mode 0700 that the `postgres` user (which PostgreSQL runs as, for root) cannot enter. The test
 * copies the scripts into such a directory and runs them there, with ports of their own.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readSettings } from "../../src/config/settings.ts";
import { listTopics } from "../../src/kafka/admin.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { SILENT } from "../../src/log.ts";
import { monitor } from "../_helpers/cli.ts";
import { freePorts } from "../_helpers/own_services.ts";

const SCRIPTS = new URL("../../scripts", import.meta.url).pathname;

// Only root runs the server as another user, the case this test is about.
const SKIP_REASON = Deno.uid() === 0
  ? undefined
  : "tests/scripts/services_test.ts is skipped: it is about running as root, where PostgreSQL runs as the postgres user";
if (SKIP_REASON !== undefined) console.warn(SKIP_REASON);

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `bash <checkout>/scripts/services.sh args…` with its default state directory. */
function servicesOf(checkout: string, kafkaPort: number, pgPort: number) {
  return async function (...args: string[]): Promise<Run> {
    const output = await new Deno.Command("bash", {
      args: [`${checkout}/scripts/services.sh`, ...args],
      env: {
        MONITOR_STATE_DIR: `${checkout}/.cache/services`, // the default, whatever the caller's is
        MONITOR_KAFKA_PORT: String(kafkaPort),
        MONITOR_PG_PORT: String(pgPort),
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: output.code, out: text(output.stdout), err: text(output.stderr) };
  };
}

/** The NAME=value lines of `services.sh env`. */
function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split("\n").map((line) => line.split(/=(.*)/s, 2)));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test({
  name:
    "services.sh as root starts, reports, stops and resets Kafka and PostgreSQL from a checkout the postgres user cannot enter",
  ignore: SKIP_REASON !== undefined,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "services-test-home-" });
    await Deno.chmod(home, 0o700); // like /root
    const checkout = `${home}/website-monitor`;
    await Deno.mkdir(checkout);
    const copy = await new Deno.Command("cp", { args: ["-R", SCRIPTS, `${checkout}/scripts`] })
      .output();
    assert.ok(copy.success, new TextDecoder().decode(copy.stderr));
    const port = freePorts(5);
    const services = servicesOf(checkout, port, port + 4);
    let dataDir: string | undefined;
    let reset: Run;
    let dataDirLeft = false;
    try {
      const start = await services("start");
      assert.equal(start.code, 0, start.err);
      const env = parseEnv((await services("env")).out);

      // The keys, the broker's key store and the SASL password (also in Kafka's server.properties,
      // in a directory of its own) are this user's alone.
      const state = `${checkout}/.cache/services`;
      const tls = [...Deno.readDirSync(`${state}/tls`)].map((entry) =>
        `${state}/tls/${entry.name}`
      );
      assert.ok(tls.includes(`${state}/tls/broker-keystore.pem`), tls.join(" "));
      const shared: string[] = [];
      for (const path of [`${state}/tls`, ...tls, `${state}/kafka`]) {
        const mode = (await Deno.stat(path)).mode! & 0o777;
        if ((mode & 0o077) !== 0) shared.push(`${path} ${mode.toString(8)}`);
      }
      assert.deepEqual(shared, [], "readable by others");

      // The project's own migrate, over TLS: the server could read its key and certificate.
      const migrate = monitor(["migrate"], {
        DATABASE_URL: `${env.DATABASE_URL}?sslmode=require`,
        LOG_LEVEL: "warn",
      });
      assert.equal(await migrate.code, 0, migrate.err());
      const kafka = createKafka(readSettings({ KAFKA_BROKERS: env.KAFKA_BROKERS }).kafka, SILENT);
      assert.ok(Array.isArray(await listTopics(kafka)));

      // Every command finds the cluster where start put it.
      const again = await services("start");
      assert.equal(again.code, 0, again.err);
      assert.match(again.err, /kafka already runs/);
      assert.match(again.err, /postgres already runs/);
      // A start with another port refuses, and leaves the running broker and its pid file alone.
      const otherPort = await servicesOf(checkout, port + 10, port + 4)("start", "kafka");
      assert.equal(otherPort.code, 1, otherPort.err);
      assert.match(otherPort.err, /kafka of \S+ runs \(pid \d+\) but does not answer on port/);
      const running = await services("status");
      assert.equal(running.code, 0, running.err);
      dataDir = running.err.match(/postgres runs on \S+ \(data in (.+)\)/)?.[1];
      assert.ok(dataDir !== undefined, running.err);

      for (const what of ["stops both", "has nothing left to stop"]) {
        const stop = await services("stop");
        assert.equal(stop.code, 0, `stop ${what}: ${stop.err}`);
      }
      const stopped = await services("status");
      assert.equal(stopped.code, 1, stopped.err);
      assert.match(stopped.err, /kafka is stopped/);
      assert.match(stopped.err, /postgres is stopped/);
    } finally {
      reset = await services("reset");
      dataDirLeft = dataDir !== undefined && await exists(dataDir);
      await Deno.remove(home, { recursive: true });
    }
    assert.equal(reset.code, 0, reset.err);
    assert.ok(!dataDirLeft, `reset left ${dataDir}`);
  },
});
