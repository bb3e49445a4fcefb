/**
 * The broker goes away while `monitor produce` runs: checks go on, their results wait in the
 * producer, and every one of them reaches the topic once the broker is back.
 */
import assert from "node:assert/strict";
import { monitor } from "../_helpers/cli.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import { testEnv, waitFor, withDatabase } from "../_helpers/services.ts";

const SERVICES = new URL("../../scripts/services.sh", import.meta.url).pathname;

/** A broker of this test's own, so stopping it disturbs no other test. */
function ownBroker(stateDir: string, port: number) {
  const run = async (command: "start" | "stop") => {
    const output = await new Deno.Command("bash", {
      args: [SERVICES, command, "kafka"],
      env: { MONITOR_STATE_DIR: stateDir, MONITOR_KAFKA_PORT: String(port) },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
  };
  return { start: () => run("start"), stop: () => run("stop") };
}

/**
 * A free port for the broker, with the next three free for its controller and its TLS and SASL
 * listeners. All lie below the
 * ephemeral range (32768 and up): a client reconnecting to a stopped broker on an ephemeral port
 * can be given that very port as its own source port and then hold it, so the broker could not
 * come back.
 */
function brokerPort(): number {
  for (;;) {
    const port = 20_000 + 4 * Math.floor(Math.random() * 3_000);
    try {
      for (let i = 0; i < 4; i++) Deno.listen({ hostname: "127.0.0.1", port: port + i }).close();
      return port;
    } catch {
      // taken: try another
    }
  }
}

Deno.test("produce keeps every result through a broker outage", async () => {
  await using target = startHttpTarget();
  const stateDir = await Deno.makeTempDir();
  const port = brokerPort();
  const broker = ownBroker(stateDir, port);
  const env = testEnv({ KAFKA_BROKERS: `127.0.0.1:${port}`, LOG_LEVEL: "debug" });
  const sitesFile = `${stateDir}/sites.yaml`;
  await Deno.writeTextFile(
    sitesFile,
    ["a", "b"].map((id) => `  - id: ${id}\n    url: ${target.url("/code/200")}\n    interval: 5s\n`)
      .join("").replace(/^/, "sites:\n"),
  );
  await broker.start();
  try {
    const produce = monitor(["produce", "--config", sitesFile], env);
    const checks = () => produce.err().split("DEBUG checked site=").length - 1;
    try {
      await waitFor("the first checks", () => checks() >= 2 || undefined);
      await broker.stop();
      const before = checks();
      await waitFor("checks while the broker is away", () => checks() >= before + 2 || undefined);
      await broker.start();
      const restarted = checks();
      await waitFor(
        "checks after the broker is back",
        () => checks() >= restarted + 2 || undefined,
      );
    } finally {
      produce.stop();
      assert.equal(await produce.code, 0, produce.err());
    }
    const checked = checks();
    assert.match(produce.err(), new RegExp(`producer stopped published=${checked}\\b`));

    await withDatabase(env, async (sql) => {
      const consume = monitor(["consume"], env);
      try {
        await waitFor("every result stored", async () => {
          const [{ n }] = await sql<
            [{ n: number }]
          >`SELECT count(DISTINCT check_id)::int AS n FROM checks`;
          return n >= checked || undefined;
        });
      } finally {
        consume.stop();
        assert.equal(await consume.code, 0, consume.err());
      }
      const [{ rows }] = await sql<[{ rows: number }]>`SELECT count(*)::int AS rows FROM checks`;
      assert.equal(rows, checked);
    });
  } finally {
    await broker.stop();
    await Deno.remove(stateDir, { recursive: true });
  }
});
