/**
 * Bad input is never a bug and never shows a secret: every setting, given each kind of malformed
 * value its schema declares, stops `monitor` with exit code 2, the variable named, no stack trace
 * and no password. The settings come from the schema, so a new setting is covered as it is added.
 */
import assert from "node:assert/strict";
import { monitor } from "../_helpers/cli.ts";
import { closedPort, TEST_CA_FILE } from "../_helpers/http_target.ts";
import { readSettings, SECRETS } from "../../src/config/settings.ts";
import { SETTING_NAMES, type SettingName, SETTINGS } from "../../src/config/settings_schema.ts";

const SECRET = "hunter2-s3cr3t";

/** A valid environment full of secrets: whatever a message quotes, it must not be these. */
const BACKGROUND: Record<string, string> = {
  KAFKA_BROKERS: `127.0.0.1:${closedPort()}`,
  KAFKA_SASL_MECHANISM: "scram-sha-256",
  KAFKA_SASL_USERNAME: "avnadmin",
  KAFKA_SASL_PASSWORD: SECRET,
  DATABASE_URL: `postgres://avnadmin:${SECRET}@127.0.0.1:${closedPort()}/db`,
};

/** A directory with a file that is not PEM (and holds a secret, which must not be quoted). */
const directory = await Deno.makeTempDir();
const notPem = `${directory}/not.pem`;
await Deno.writeTextFile(notPem, `not a certificate ${SECRET}\n`);

/**
 * Malformed texts for a setting, by its kind; the switch is exhaustive, so a new kind needs its
 * own. A secret's carry the secret, which no message may show.
 */
function malformed(name: SettingName): string[] {
  const kind = SETTINGS[name].kind;
  switch (kind.type) {
    case "text":
      if (name in SECRETS) return [`${SECRET}\u0000`, `${SECRET}\nsecond-line`, `${SECRET}\u202e`];
      return [
        "a\u0007b",
        "x\u001b[2Jy",
        "x\u009b2Jy",
        "evil\u202egro.elpmaxe",
        ...(kind.pattern === undefined ? [] : ["not valid!"]),
      ];
    case "integer":
      return [
        "x",
        "1.5",
        "12abc",
        "0x10",
        String(kind.min - 1),
        String(kind.max + 1),
        "9".repeat(30),
      ];
    case "boolean":
      return ["maybe", "yes", "2"];
    case "choice":
      return ["nope", `${kind.values[0]}x`];
    case "hostPorts":
      return [
        "localhost",
        ",",
        "host:0",
        "host:65536",
        "host:9092,garbage",
        "h o s t:9092",
        "[::1]:9092",
        `avnadmin:${SECRET}@kafka.example:9092`,
        `SASL_SSL://avnadmin:${SECRET}@kafka.example:9092`,
      ];
    case "networks":
      return [
        ",",
        "10.0.0.0",
        "10.0.0.0/33",
        "fe80::/129",
        "10.0.0.0/8/1",
        "example.com/8",
        "10.0.0.0/x",
      ];
    case "postgresUri":
      return [
        `postgres://u:${SECRET}@[::1:5432/db`, // the typo of issue 12
        `postgres://u:${SECRET}@db.example:99999/db`,
        `postgres://u:${SECRET}/db.example/db`,
        `postgres://u:${SECRET}@db example/db`,
        `mysql://u:${SECRET}@db.example/db`,
        `u:${SECRET}@db.example/db`,
        `postgres://u:${SECRET}@db.example/db?sslmode=verify`,
        `postgres://u:${SECRET}@db.example/db?sslrootcert=/no/such/ca.pem`,
        `postgres://u:${SECRET}@db.example/db\u001b[2J`,
        `postgres://u:${SECRET}@db.example/db?application_name=\u001b]0;owned\u0007`,
        `postgres://u:${SECRET}@db.example/db?application_name=evil\u202egro`,
      ];
    case "file":
      return ["/no/such/ca.pem", directory, notPem, "/dev/zero", "ca\u0000.pem"];
    default: {
      const unknown: never = kind;
      throw new Error(`No malformed values for ${JSON.stringify(unknown)}`);
    }
  }
}

Deno.test("the background environment of these tests is valid, so each failure is the bad value's", async () => {
  readSettings(BACKGROUND);
  const run = monitor(["settings"], BACKGROUND);
  assert.equal(await run.code, 0, run.err());
  assert.ok(!`${run.out()}${run.err()}`.includes(SECRET));
});

Deno.test("every setting's kind has malformed values", () => {
  for (const name of SETTING_NAMES) {
    assert.ok(malformed(name).length > 0, name);
  }
});

Deno.test("monitor settings and monitor migrate exit 2 naming the setting for each malformed value, without a stack trace or a secret", async (t) => {
  for (const name of SETTING_NAMES) {
    await t.step(name, async () => {
      for (const value of malformed(name)) {
        for (const args of [["settings"], ["migrate"]]) {
          const run = monitor(args, { ...BACKGROUND, [name]: value });
          const code = await run.code;
          const output = `${run.out()}${run.err()}`;
          const what = `monitor ${args.join(" ")} with ${name}=${
            JSON.stringify(value)
          }:\n${output}`;
          assert.equal(code, 2, what);
          assert.ok(output.includes(name), what);
          assert.match(output, /^Invalid settings:\n/, what);
          assert.match(output, /\n\d+ problems? found; nothing was started\n$/, what);
          assert.ok(!output.includes("Unexpected error"), what);
          assert.ok(!/^ {4}at /m.test(output), what);
          assert.ok(!output.includes(SECRET), what);
          // Raw control characters would act on the terminal; they are shown escaped.
          assert.ok(!/(?!\n)[\p{Cc}\p{Bidi_Control}]/u.test(output), what);
        }
      }
    });
  }
});

Deno.test("readSettings() reports every malformed setting at once, in the order of docs/configuration.md", () => {
  const env = Object.fromEntries(
    SETTING_NAMES.map((name) => [name, malformed(name)[0]!]),
  );
  const error = (() => {
    try {
      readSettings(env, { readFile: (path) => Deno.readTextFileSync(path) });
    } catch (error) {
      return error as Error;
    }
    assert.fail("accepted");
  })();
  const named = error.message.split("\n").slice(1).map((line) => line.trim().split(/[ ']/)[0]);
  const firstOf = SETTING_NAMES.map((name) => named.indexOf(name));
  assert.ok(firstOf.every((index) => index >= 0), error.message);
  assert.deepEqual(firstOf, firstOf.toSorted((a, b) => a - b), error.message);
  assert.ok(!error.message.includes(SECRET));
});

Deno.test("readSettings() checks the rules across settings whichever other setting is malformed", () => {
  // zod skips an object's refinements after an aborting issue (z.stringbool's is one), so each
  // setting is parsed on its own and the rules run on the valid ones.
  const retention = { RETAIN_CHECKS_DAYS: "90", RETAIN_ROLLUPS_DAYS: "60" };
  for (const name of SETTING_NAMES.filter((name) => !(name in retention))) {
    for (const value of malformed(name)) {
      assert.throws(
        () => readSettings({ ...retention, [name]: value }),
        /\n {2}RETAIN_ROLLUPS_DAYS must be at least RETAIN_CHECKS_DAYS \(90\)/,
        `${name}=${JSON.stringify(value)}`,
      );
    }
  }
});

Deno.test("a readable PEM file is accepted where a setting names one", () => {
  const settings = readSettings({ ...BACKGROUND, DATABASE_CA_FILE: TEST_CA_FILE }, {
    readFile: (path) => Deno.readTextFileSync(path),
  });
  assert.equal(settings.database.tls?.caFile, TEST_CA_FILE);
});

globalThis.addEventListener("unload", () => Deno.removeSync(directory, { recursive: true }));
