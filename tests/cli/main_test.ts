import assert from "node:assert/strict";
import { closedPort } from "../_helpers/http_target.ts";
import { monitor } from "../_helpers/cli.ts";
import { runMonitor } from "../../src/cli/main.ts";
import { SETTINGS } from "../../src/config/settings_schema.ts";

const testdata = (name: string) => new URL(`../testdata/${name}`, import.meta.url).pathname;

Deno.test("monitor produce with an invalid sites file exits 2, listing every problem, before connecting", async () => {
  // Brokers that do not exist: reaching them would fail differently, and slowly.
  const run = monitor(["produce", "--config", testdata("invalid-many.yaml")], {
    KAFKA_BROKERS: `127.0.0.1:${closedPort()}`,
  });
  assert.equal(await run.code, 2);
  const lines = run.err().trim().split("\n");
  assert.equal(lines.length, 5, run.err());
  assert.match(
    lines[0]!,
    /invalid-many\.yaml:3: sites\[0\]\.url must be an absolute http\(s\) URL/,
  );
  assert.equal(lines[4], "4 problems found; nothing was started");
});

Deno.test("monitor run with a missing sites file exits 2 naming it", async () => {
  const run = monitor(["run", "--config", "no-such-sites.yaml"]);
  assert.equal(await run.code, 2);
  assert.match(run.err(), /no-such-sites\.yaml: cannot be read: does not exist/);
});

Deno.test("monitor with an unknown command or option exits 2 with a hint", async () => {
  const unknown = monitor(["launch"]);
  assert.equal(await unknown.code, 2);
  assert.match(unknown.err(), /unknown command 'launch'/);
  const option = monitor(["migrate", "--fast"]);
  assert.equal(await option.code, 2);
  assert.match(option.err(), /unknown option '--fast'/);
});

Deno.test("monitor with a bad setting exits 2 naming the variable", async () => {
  const run = monitor(["migrate"], { CHECK_CONCURRENCY: "-3" });
  assert.equal(await run.code, 2);
  assert.match(
    run.err(),
    /CHECK_CONCURRENCY must be an integer of at least 1: current value is "-3"/,
  );
});

Deno.test("monitor migrate against an unreachable database exits 1 without the password", async () => {
  const run = monitor(["migrate"], {
    DATABASE_URL: `postgres://me:hunter2@127.0.0.1:${closedPort()}/db`,
  });
  assert.equal(await run.code, 1);
  assert.match(
    run.err(),
    /^Cannot use PostgreSQL at "postgres:\/\/me:\*\*\*@127\.0\.0\.1:\d+\/db"/,
  );
  assert.match(run.err(), /DATABASE_URL/);
  assert.doesNotMatch(run.err(), /hunter2/);
});

Deno.test("monitor --help lists the subcommands and exits 0", async () => {
  const run = monitor(["--help"]);
  assert.equal(await run.code, 0);
  for (const command of ["produce", "consume", "migrate", "run"]) {
    assert.match(run.out(), new RegExp(`\\n  ${command} `));
  }
});

Deno.test("monitor settings prints every setting with passwords masked, and --help shows none", async () => {
  const env = {
    KAFKA_SASL_MECHANISM: "scram-sha-256",
    KAFKA_SASL_USERNAME: "avnadmin",
    KAFKA_SASL_PASSWORD: "kafka-s3cr3t",
    DATABASE_URL: "postgres://avnadmin:pg-s3cr3t@pg.example:5432/defaultdb?sslmode=require",
  };
  const run = monitor(["settings"], env);
  assert.equal(await run.code, 0, run.err());
  const lines = run.out().trimEnd().split("\n");
  assert.equal(lines.length, Object.keys(SETTINGS).length);
  assert.ok(lines.includes("KAFKA_SASL_PASSWORD=***"));
  assert.ok(lines.includes("KAFKA_SASL_USERNAME=avnadmin"));
  assert.ok(lines.includes(
    "DATABASE_URL=postgres://avnadmin:***@pg.example:5432/defaultdb?sslmode=require",
  ));
  assert.ok(lines.includes("KAFKA_TOPIC=website-checks  # default"));
  const help = monitor(["--help"], env);
  await help.code;
  for (const output of [run.out(), run.err(), help.out(), help.err()]) {
    assert.ok(!output.includes("s3cr3t"));
  }
});

Deno.test("monitor migrate with a malformed DATABASE_URL exits 2 naming it, without the password or a stack trace", async () => {
  // Issue 12: this ended in "Unexpected error (a bug …): TypeError: Invalid URL: '…'" with the password.
  const run = monitor(["migrate"], { DATABASE_URL: "postgres://u:hunter2@[::1:5432/db" });
  assert.equal(await run.code, 2);
  assert.match(run.err(), /^Invalid settings:\n {2}DATABASE_URL is not a valid URI/);
  assert.match(run.err(), /\n1 problem found; nothing was started\n$/);
  assert.doesNotMatch(run.err(), /hunter2|Unexpected error|^ {4}at /m);
});

Deno.test("monitor reports a bug with its stack trace, but with the passwords of URIs in it masked", async () => {
  let err = "";
  const code = await runMonitor(["settings"], {
    env: {},
    signal: new AbortController().signal,
    writeOut: () => {
      throw new TypeError("Invalid URL: 'postgres://u:hunter2@[::1:5432/db'");
    },
    writeErr: (text) => err += text,
  });
  assert.equal(code, 1);
  assert.match(
    err,
    /^Unexpected error \(a bug; please report it\): TypeError: Invalid URL: 'postgres:\/\/\*\*\*@\[::1:5432\/db'\n {4}at /,
  );
  assert.doesNotMatch(err, /hunter2/);
});
