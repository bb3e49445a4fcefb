/**
 * Managed-service security, against the local services' TLS and SASL listeners (see
 * scripts/services.sh): every Kafka mode Aiven offers carries results end to end, every `sslmode`
 * means what libpq says, and every failure says what is wrong without a secret in it.
 */
import assert from "node:assert/strict";
import { readSettings } from "../../src/config/settings.ts";
import { connectDatabase } from "../../src/db/client.ts";
import { monitor } from "../_helpers/cli.ts";
import { startHttpTarget, TEST_CA_FILE } from "../_helpers/http_target.ts";
import { testEnv, waitFor, withDatabase } from "../_helpers/services.ts";

/** A local service of scripts/services.sh, by the variable that points elsewhere instead. */
const SERVICES = { kafka: "KAFKA_BROKERS", postgres: "DATABASE_URL" } as const;

/**
 * Test options that skip the test, saying why, unless each of `needs` is the local service (whose
 * TLS listeners it uses): `deno task test` starts only those that KAFKA_BROKERS and DATABASE_URL do
 * not point elsewhere, and names them in MONITOR_LOCAL_SERVICES. Unset, the tests were not started
 * by `deno task test`: they run, and {@link localTls} says what to do.
 */
function localOnly(...needs: (keyof typeof SERVICES)[]): { ignore: boolean } {
  const local = Deno.env.get("MONITOR_LOCAL_SERVICES")?.split(" ");
  const elsewhere = needs.filter((service) => local !== undefined && !local.includes(service));
  for (const service of elsewhere) {
    console.warn(
      `skipping a test of the local ${service}'s TLS listeners: ${SERVICES[service]} points at ` +
        "another server (unset it to have deno task test start the local one)",
    );
  }
  return { ignore: elsewhere.length > 0 };
}

/** The local services' TLS listeners and credentials, exported by `deno task test`. */
function localTls() {
  const get = (name: string) => {
    const value = Deno.env.get(name);
    if (!value) {
      throw new Error(
        `${name} is not set: run these tests with "deno task test", which starts the local services with their TLS and SASL listeners`,
      );
    }
    return value;
  };
  const dir = get("MONITOR_TLS_DIR");
  // Read when used: a test of PostgreSQL's alone runs without the local Kafka.
  return {
    get sslBrokers() {
      return get("MONITOR_KAFKA_SSL_BROKERS");
    },
    get saslBrokers() {
      return get("MONITOR_KAFKA_SASL_BROKERS");
    },
    get username() {
      return get("MONITOR_KAFKA_SASL_USERNAME");
    },
    get password() {
      return get("MONITOR_KAFKA_SASL_PASSWORD");
    },
    file: (name: string) => `${dir}/${name}`,
  };
}

/** DATABASE_URL of the local server, by another host name and with query parameters. */
function databaseUrl(host: string, query: string, password = ""): string {
  const url = new URL(Deno.env.get("DATABASE_URL")!);
  url.hostname = host;
  if (password !== "") url.password = password;
  return `${url.toString()}${url.search === "" ? "?" : "&"}${query}`;
}

async function writeSites(dir: string, url: string): Promise<string> {
  const file = `${dir}/sites.yaml`;
  await Deno.writeTextFile(file, `sites:\n  - id: tls-site\n    url: ${url}\n    interval: 30s\n`);
  return file;
}

Deno.test(
  "produce and consume carry results over TLS with a client certificate and SASL over TLS",
  localOnly("kafka", "postgres"),
  async () => {
    const tls = localTls();
    await using target = startHttpTarget();
    const dir = await Deno.makeTempDir();
    const sitesFile = await writeSites(dir, target.url("/code/200"));
    const sasl = (mechanism: string) => ({
      KAFKA_BROKERS: tls.saslBrokers,
      KAFKA_SSL_CA_FILE: tls.file("ca.pem"),
      KAFKA_SASL_MECHANISM: mechanism,
      KAFKA_SASL_USERNAME: tls.username,
      KAFKA_SASL_PASSWORD: tls.password,
    });
    const modes = {
      "client certificate": {
        KAFKA_BROKERS: tls.sslBrokers,
        KAFKA_SSL_CA_FILE: tls.file("ca.pem"),
        KAFKA_SSL_CERT_FILE: tls.file("client.pem"),
        KAFKA_SSL_KEY_FILE: tls.file("client.key"),
      },
      "SCRAM-SHA-256": sasl("scram-sha-256"),
      "SCRAM-SHA-512": sasl("SCRAM-SHA-512"),
      "PLAIN": sasl("plain"),
    };
    try {
      await Promise.all(
        Object.entries(modes).map(async ([mode, kafka]) => {
          // The database over verified TLS as well, as against Aiven.
          const env = testEnv({
            ...kafka,
            DATABASE_URL: databaseUrl("localhost", "sslmode=verify-full"),
            DATABASE_CA_FILE: tls.file("ca.pem"),
          });
          await withDatabase(env, async (sql) => {
            const produce = monitor(["produce", "--once", "--config", sitesFile], env);
            assert.equal(await produce.code, 0, `${mode}: ${produce.err()}`);
            const consume = monitor(["consume"], env);
            try {
              const rows = await waitFor(`${mode}: the result stored`, async () => {
                const found = await sql`SELECT site, status_code FROM check_results`;
                return found.length > 0 ? found : undefined;
              });
              assert.deepEqual(rows.map((r) => ({ ...r })), [{
                site: "tls-site",
                status_code: 200,
              }]);
            } finally {
              consume.stop();
              assert.equal(await consume.code, 0, `${mode}: ${consume.err()}`);
            }
            const [{ ssl }] = await sql<[{ ssl: boolean }]>`
          SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`;
            assert.equal(ssl, true, `${mode}: the database connection uses TLS`);
            for (const output of [produce.err(), consume.err()]) {
              assert.ok(!output.includes(tls.password), `${mode}: no password in the logs`);
            }
          });
        }),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "each sslmode connects as libpq defines it, and verify-full checks the host name",
  localOnly("postgres"),
  async () => {
    const tls = localTls();
    const ca = tls.file("ca.pem");
    const connects = async (host: string, query: string, extra: Record<string, string> = {}) => {
      const settings = readSettings(
        testEnv({ DATABASE_URL: databaseUrl(host, query, "hunter2"), ...extra }),
      );
      const sql = connectDatabase(settings.database);
      try {
        const [{ ssl }] = await sql<[{ ssl: boolean }]>`
        SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`;
        return ssl ? "tls" : "plain";
      } catch (error) {
        return `failed: ${(error as Error).message}`;
      } finally {
        await sql.end({ timeout: 1 });
      }
    };
    // The server's certificate names localhost, not 127.0.0.1.
    assert.equal(await connects("127.0.0.1", "sslmode=disable"), "plain");
    assert.equal(await connects("127.0.0.1", "sslmode=prefer"), "tls");
    assert.equal(await connects("127.0.0.1", "sslmode=require"), "tls");
    assert.equal(await connects("127.0.0.1", "sslmode=verify-ca", { DATABASE_CA_FILE: ca }), "tls");
    assert.equal(await connects("127.0.0.1", "sslmode=verify-ca", { PGSSLROOTCERT: ca }), "tls");
    assert.equal(await connects("localhost", `sslmode=verify-full&sslrootcert=${ca}`), "tls");
    assert.match(
      await connects("127.0.0.1", "sslmode=verify-full", { DATABASE_CA_FILE: ca }),
      /^failed: .*(does not match|altnames)/,
    );
    assert.match(
      await connects("localhost", "sslmode=verify-ca", { DATABASE_CA_FILE: TEST_CA_FILE }),
      /^failed: .*(self[- ]signed|unable to verify|unable to get)/,
    );
  },
);

Deno.test(
  "monitor says what is wrong, without secrets, for a bad certificate, key or password",
  localOnly("kafka", "postgres"),
  async () => {
    const tls = localTls();
    const wrongPassword = `${tls.password}-wrong`;
    const servers = ["expired", "other-host"].map((name) =>
      Deno.listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: Deno.readTextFileSync(tls.file(`${name}.pem`)),
        key: Deno.readTextFileSync(tls.file(`${name}.key`)),
      })
    );
    // Accept and handshake, so the client sees the certificate (and reject it).
    const serving = servers.map(async (server) => {
      for await (const conn of server) conn.handshake().catch(() => {}).finally(() => conn.close());
    });
    const [expired, otherHost] = servers.map((s) => `127.0.0.1:${(s.addr as Deno.NetAddr).port}`);
    const client = {
      KAFKA_SSL_CERT_FILE: tls.file("client.pem"),
      KAFKA_SSL_KEY_FILE: tls.file("client.key"),
    };
    const cases: [string, Record<string, string>, number, RegExp][] = [
      [
        "a CA that did not sign the broker's certificate",
        { KAFKA_BROKERS: tls.sslBrokers, KAFKA_SSL_CA_FILE: TEST_CA_FILE, ...client },
        1,
        /Cannot use Kafka at "[^"]+": .*(unable to verify|self[- ]signed).*: check that KAFKA_SSL_CA_FILE is the CA/,
      ],
      [
        "an expired broker certificate",
        { KAFKA_BROKERS: expired!, KAFKA_SSL_CA_FILE: tls.file("ca.pem"), ...client },
        1,
        /Cannot use Kafka at "[^"]+": .*certificate has expired.*: check that KAFKA_SSL_CA_FILE/,
      ],
      [
        "a broker certificate for another host",
        { KAFKA_BROKERS: otherHost!, KAFKA_SSL_CA_FILE: tls.file("ca.pem"), ...client },
        1,
        /Cannot use Kafka at "[^"]+": .*(altnames|does not match).*: check that KAFKA_SSL_CA_FILE/,
      ],
      [
        "a missing key file",
        {
          ...client,
          KAFKA_BROKERS: tls.sslBrokers,
          KAFKA_SSL_KEY_FILE: "/nonexistent/service.key",
        },
        2,
        /KAFKA_SSL_KEY_FILE "\/nonexistent\/service\.key" does not exist/,
      ],
      [
        "a wrong SASL password",
        {
          KAFKA_BROKERS: tls.saslBrokers,
          KAFKA_SSL_CA_FILE: tls.file("ca.pem"),
          KAFKA_SASL_MECHANISM: "scram-sha-512",
          KAFKA_SASL_USERNAME: tls.username,
          KAFKA_SASL_PASSWORD: wrongPassword,
        },
        1,
        /Cannot use Kafka at "[^"]+": .*authentication failed.*: check KAFKA_SASL_MECHANISM/i,
      ],
      [
        "verify-full against a certificate for another host",
        {
          DATABASE_URL: databaseUrl("127.0.0.1", "sslmode=verify-full", "hunter2"),
          DATABASE_CA_FILE: tls.file("ca.pem"),
        },
        1,
        /Cannot use PostgreSQL at "postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\?sslmode=verify-full": .*(does not match|altnames).*: check sslmode/,
      ],
    ];
    const dir = await Deno.makeTempDir();
    const sitesFile = await writeSites(dir, "http://127.0.0.1:9/");
    try {
      await Promise.all(cases.map(async ([what, settings, code, message]) => {
        // Each runs the first command that connects to the service in question.
        const args = "DATABASE_URL" in settings
          ? ["migrate"]
          : ["produce", "--once", "--config", sitesFile];
        const run = monitor(args, testEnv(settings));
        assert.equal(await run.code, code, `${what}: ${run.err()}`);
        const output = `${run.out()}${run.err()}`;
        assert.match(output, message, what);
        for (const secret of [tls.password, wrongPassword, "hunter2", "PRIVATE KEY"]) {
          assert.ok(!output.includes(secret), `${what}: "${secret}" is not shown`);
        }
      }));
    } finally {
      for (const server of servers) server.close();
      await Promise.allSettled(serving);
      await Deno.remove(dir, { recursive: true });
    }
  },
);
