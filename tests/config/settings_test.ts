import assert from "node:assert/strict";
import { readSettings, redactUri, SECRETS, showSettings } from "../../src/config/settings.ts";
import { type SettingName, SETTINGS } from "../../src/config/settings_schema.ts";
import { UsageError } from "../../src/errors.ts";

Deno.test("readSettings() gives the documented defaults for an empty environment", () => {
  const settings = readSettings({});
  assert.deepEqual(settings.kafka.brokers, [SETTINGS.KAFKA_BROKERS.default]);
  assert.equal(settings.kafka.topic, "website-checks");
  assert.equal(settings.kafka.topicPartitions, 6);
  assert.equal(settings.kafka.tls, null);
  assert.equal(settings.kafka.sasl, null);
  assert.equal(settings.database.url, SETTINGS.DATABASE_URL.default);
  assert.equal(settings.database.schema, undefined);
  assert.equal(settings.checkConcurrency, 200);
  assert.deepEqual(settings.database.retention, { checksDays: 30, rollupsDays: 400 });
  assert.deepEqual(settings.consume, { batchBytes: 1_048_576, lingerMs: 100, prune: false });
});

Deno.test("readSettings() reads Aiven-style TLS files and SASL", () => {
  const settings = readSettings({
    KAFKA_BROKERS: "kafka-a.aivencloud.com:12345, kafka-b.aivencloud.com:12345",
    KAFKA_SSL_CA_FILE: "ca.pem",
    KAFKA_SSL_CERT_FILE: "service.cert",
    KAFKA_SSL_KEY_FILE: "service.key",
    KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SASL_USERNAME: "avnadmin",
    KAFKA_SASL_PASSWORD: "pw",
  });
  assert.deepEqual(settings.kafka.brokers, [
    "kafka-a.aivencloud.com:12345",
    "kafka-b.aivencloud.com:12345",
  ]);
  assert.deepEqual(settings.kafka.tls, {
    caFile: "ca.pem",
    certFile: "service.cert",
    keyFile: "service.key",
    rejectUnauthorized: true,
  });
  assert.deepEqual(settings.kafka.sasl, {
    mechanism: "scram-sha-512",
    username: "avnadmin",
    password: "pw",
  });
});

Deno.test("readSettings() lists every bad value at once, naming the variable", () => {
  assert.throws(
    () =>
      readSettings({
        KAFKA_BROKERS: "localhost",
        KAFKA_TOPIC_PARTITIONS: "zero",
        KAFKA_SSL_CERT_FILE: "service.cert",
        DATABASE_URL: "mysql://x",
        LOG_LEVEL: "loud",
        RETAIN_CHECKS_DAYS: "90",
        RETAIN_ROLLUPS_DAYS: "60",
      }),
    (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(
        error.message,
        [
          "Invalid settings:",
          '  KAFKA_BROKERS must list host:port pairs: "localhost" is not one',
          '  KAFKA_TOPIC_PARTITIONS must be an integer of at least 1: current value is "zero"',
          "  KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE must be set together",
          "  DATABASE_URL must be a postgres:// or postgresql:// URI (the value is not shown: it may hold a secret)",
          '  RETAIN_ROLLUPS_DAYS must be at least RETAIN_CHECKS_DAYS (90): current value is "60"',
          '  LOG_LEVEL must be one of error, warn, info, debug: current value is "loud"',
        ].join("\n"),
      );
      return true;
    },
  );
});

Deno.test("showSettings() masks every setting the list of secrets names", () => {
  const secret = "postgres://u:s3cr3t@db.example/app?sslpassword=s3cr3t";
  for (const name of Object.keys(SECRETS) as SettingName[]) {
    const shown = showSettings({ [name]: secret }).find((setting) => setting.name === name);
    assert.ok(shown !== undefined && !shown.shown.includes("s3cr3t"), `${name}: ${shown?.shown}`);
  }
  assert.deepEqual(Object.keys(SECRETS).toSorted(), [
    "DATABASE_URL",
    "KAFKA_SASL_PASSWORD",
    "SERVE_API_TOKEN",
  ]);
});

Deno.test("redactUri() hides the password and keeps the rest", () => {
  assert.equal(
    redactUri("postgres://avnadmin:s3cr3t@pg.aivencloud.com:5432/defaultdb?sslmode=require"),
    "postgres://avnadmin:***@pg.aivencloud.com:5432/defaultdb?sslmode=require",
  );
  assert.equal(redactUri("postgres://postgres@127.0.0.1/db"), "postgres://postgres@127.0.0.1/db");
  assert.equal(
    redactUri("postgres://h/db?user=u&password=s3cr3t&sslmode=require"),
    "postgres://h/db?user=u&password=***&sslmode=require",
  );
});

Deno.test("redactUri() hides every parameter whose name says it holds a secret, however spelt", () => {
  const secrets = [
    "password",
    "PASSWORD",
    "sslpassword",
    "ssl%70assword",
    "sslkey",
    "passfile",
    "client_secret",
    "token",
    "api_key",
  ];
  for (const name of secrets) {
    assert.equal(
      redactUri(`postgres://u:pw@h/db?sslmode=require&${name}=s3cr3t&application_name=x`),
      `postgres://u:***@h/db?sslmode=require&${name}=***&application_name=x`,
    );
    assert.equal(redactUri(`postgres://h/db?${name}=s3cr3t#x`), `postgres://h/db?${name}=***#x`);
  }
  const plain = "postgres://h/db?sslmode=verify-full&sslrootcert=ca.pem&application_name=m";
  assert.equal(redactUri(plain), plain);
});

Deno.test("readSettings() takes sslmode and the CA from DATABASE_URL, DATABASE_CA_FILE or PGSSLROOTCERT", () => {
  const tls = (env: Record<string, string>) => readSettings(env).database.tls;
  const aiven = "postgres://avnadmin:pw@pg.aivencloud.com:12346/defaultdb";
  assert.equal(tls({ DATABASE_URL: aiven }), null);
  assert.deepEqual(tls({ DATABASE_URL: `${aiven}?sslmode=require` }), { mode: "require" });
  assert.deepEqual(tls({ DATABASE_URL: `${aiven}?sslmode=require`, DATABASE_CA_FILE: "ca.pem" }), {
    mode: "require",
    caFile: "ca.pem",
    caSetting: "DATABASE_CA_FILE",
  });
  assert.deepEqual(tls({ DATABASE_URL: aiven, PGSSLROOTCERT: "root.crt" }), {
    mode: "verify-full",
    caFile: "root.crt",
    caSetting: "PGSSLROOTCERT",
  });
  assert.deepEqual(tls({ DATABASE_URL: `${aiven}?sslmode=verify-ca&sslrootcert=ca.pem` }), {
    mode: "verify-ca",
    caFile: "ca.pem",
    caSetting: "sslrootcert in DATABASE_URL",
  });
  assert.deepEqual(tls({ DATABASE_URL: `${aiven}?sslrootcert=system` }), { mode: "verify-full" });
  assert.throws(
    () => readSettings({ DATABASE_URL: `${aiven}?sslmode=verify` }),
    /DATABASE_URL's sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full: current value is "verify"/,
  );
});
