/**
 * Connection and tuning settings, read once from the environment. Every setting, its default and
 * its meaning is listed in {@link SETTINGS} (and the README's table is generated from the same
 * words).
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** TLS for Kafka: off, on with the system's CAs, or on with files (Aiven's service CA and key pair). */
export interface KafkaTls {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** False only when the user turned verification off explicitly. */
  readonly rejectUnauthorized: boolean;
}

/** SASL credentials for Kafka. */
export interface KafkaSasl {
  readonly mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
  readonly username: string;
  readonly password: string;
}

/** PostgreSQL's `sslmode` values, as libpq defines them (`allow` is taken as `prefer`). */
export const SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
] as const;
/** One of {@link SSL_MODES}. */
export type SslMode = typeof SSL_MODES[number];

/** TLS to PostgreSQL, from `sslmode` (and `sslrootcert`) in DATABASE_URL and the CA settings. */
export interface DatabaseTls {
  readonly mode: SslMode;
  /** The CA to verify the server with; unset: the system's CAs. */
  readonly caFile?: string;
  /** Which setting named {@link caFile}, for messages. */
  readonly caSetting?: string;
}

/** Everything read from the environment. */
export interface Settings {
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly topic: string;
    readonly topicPartitions: number;
    readonly topicReplicationFactor: number;
    readonly groupId: string;
    readonly sessionTimeoutMs: number;
    readonly tls: KafkaTls | null;
    readonly sasl: KafkaSasl | null;
  };
  readonly database: {
    readonly url: string;
    /** Null: plain TCP (no `sslmode` and no CA given). */
    readonly tls: DatabaseTls | null;
    readonly schema?: string;
    readonly writeTimeoutMs: number;
    /** Days of daily partitions created ahead of today. */
    readonly partitionsAheadDays: number;
    readonly retention: { readonly checksDays: number; readonly rollupsDays: number };
  };
  /** How `monitor consume` batches. */
  readonly consume: {
    /** Most bytes fetched per partition at once; one fetch is one write. */
    readonly batchBytes: number;
    /** How long the broker may wait to fill a batch. */
    readonly lingerMs: number;
    /** Whether the consumer also prunes old partitions, hourly. */
    readonly prune: boolean;
  };
  readonly checkConcurrency: number;
  /** Most results `monitor produce` holds while Kafka is unreachable. */
  readonly produceBufferMessages: number;
  /** How long a stopping command may take to hand over what it holds. */
  readonly shutdownTimeoutMs: number;
  /** Port of the Prometheus metrics and health endpoint; null: none. */
  readonly metricsPort: number | null;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

/** Log line formats. */
export const LOG_FORMATS = ["text", "json"] as const;
/** One of {@link LOG_FORMATS}. */
export type LogFormat = typeof LOG_FORMATS[number];

/** Log levels, least to most verbose. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Every environment variable read, with its default (`""`: unset) and meaning. */
export const SETTINGS = {
  KAFKA_BROKERS: ["127.0.0.1:19092", "Comma-separated host:port list of Kafka bootstrap brokers"],
  KAFKA_TOPIC: ["website-checks", "Topic the check results are published to"],
  KAFKA_TOPIC_PARTITIONS: ["6", "Partitions of the topic when the monitor creates it"],
  KAFKA_TOPIC_REPLICATION_FACTOR: [
    "-1",
    "Replication factor when the monitor creates the topic; -1: the broker's default",
  ],
  KAFKA_CLIENT_ID: ["website-monitor", "Client id sent to Kafka"],
  KAFKA_GROUP_ID: ["website-monitor-db-writer", "Consumer group of `monitor consume`"],
  KAFKA_SESSION_TIMEOUT_MS: [
    "30000",
    "How long the group waits for a silent consumer before giving its partitions to another",
  ],
  KAFKA_SSL: ["false", "`true` to connect with TLS (implied by any KAFKA_SSL_*_FILE)"],
  KAFKA_SSL_CA_FILE: [
    "",
    "CA certificate (PEM) that signed the brokers' certificates, e.g. Aiven's ca.pem",
  ],
  KAFKA_SSL_CERT_FILE: [
    "",
    "Client certificate (PEM) for TLS client authentication, e.g. Aiven's service.cert",
  ],
  KAFKA_SSL_KEY_FILE: ["", "Client private key (PEM), e.g. Aiven's service.key"],
  KAFKA_SSL_REJECT_UNAUTHORIZED: [
    "true",
    "`false` turns broker certificate verification off (never in production)",
  ],
  KAFKA_SASL_MECHANISM: [
    "",
    "`plain`, `scram-sha-256` or `scram-sha-512` to authenticate with SASL",
  ],
  KAFKA_SASL_USERNAME: ["", "SASL user name"],
  KAFKA_SASL_PASSWORD: ["", "SASL password"],
  DATABASE_URL: [
    "postgres://postgres@127.0.0.1:54329/postgres",
    "PostgreSQL connection URI; `?sslmode=require` as Aiven gives it works",
  ],
  DATABASE_CA_FILE: [
    "",
    "CA certificate (PEM) to verify the database server with, e.g. Aiven's ca.pem; without `sslmode`: verify-full. PGSSLROOTCERT works too",
  ],
  DATABASE_SCHEMA: [
    "",
    "Schema for the monitor's tables (created by `monitor migrate`); unset: the server's search_path",
  ],
  DATABASE_WRITE_TIMEOUT_MS: [
    "30000",
    "How long `monitor consume` waits on one batch write before logging and heartbeating again",
  ],
  DATABASE_PARTITIONS_AHEAD_DAYS: [
    "7",
    "Days of daily `checks` partitions that `monitor migrate` and `monitor consume` create ahead",
  ],
  RETAIN_CHECKS_DAYS: [
    "30",
    "Days raw checks are kept by `monitor prune`; older days are dropped whole",
  ],
  RETAIN_ROLLUPS_DAYS: [
    "400",
    "Days hourly rollups are kept by `monitor prune`; older months are dropped whole",
  ],
  CONSUME_BATCH_BYTES: [
    "1048576",
    "Most bytes `monitor consume` fetches per partition at once; each fetch is stored in one statement",
  ],
  CONSUME_LINGER_MS: [
    "100",
    "How long the broker may wait for a full batch before `monitor consume` gets a smaller one",
  ],
  CONSUME_PRUNE: ["false", "`true`: `monitor consume` also runs `monitor prune` once an hour"],
  CHECK_CONCURRENCY: ["200", "Most checks in progress at once in `monitor produce`"],
  PRODUCE_BUFFER_MESSAGES: [
    "100000",
    "Most results `monitor produce` holds while Kafka is unreachable; beyond it the oldest are dropped, counted and logged",
  ],
  SHUTDOWN_TIMEOUT_MS: [
    "8000",
    "How long `produce` keeps trying to publish what it holds after SIGINT/SIGTERM before giving up (and logging what was lost)",
  ],
  METRICS_PORT: [
    "",
    "Port for Prometheus metrics (`/metrics`) and health (`/healthz`); also `--metrics-port`. Unset: none",
  ],
  LOG_LEVEL: ["info", "`error`, `warn`, `info` or `debug`"],
  LOG_FORMAT: ["text", "`text` (readable) or `json` (one object per line); also `--log-format`"],
} as const satisfies Record<string, readonly [string, string]>;

type Name = keyof typeof SETTINGS;

/**
 * Reads the settings.
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @returns The settings, defaults applied.
 * @throws {UsageError} Naming the variable and the problem, for a value that cannot work.
 *
 * @example
 * ```ts
 * import { readSettings } from "./settings.ts";
 * const settings = readSettings({ KAFKA_TOPIC: "checks" });
 * console.log(settings.kafka.topic, settings.kafka.brokers); // checks [ "127.0.0.1:19092" ]
 * ```
 */
export function readSettings(env: Readonly<Record<string, string | undefined>>): Settings {
  const problems: string[] = [];
  const get = (name: Name): string => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? SETTINGS[name][0] : value;
  };
  const optional = (name: Name): string | undefined => get(name) || undefined;
  const integer = (name: Name, min: number): number => {
    const text = get(name);
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) {
      problems.push(`${name} must be an integer of at least ${min}: current value is "${text}"`);
    }
    return value;
  };
  const boolean = (name: Name): boolean => {
    const text = get(name).toLowerCase();
    if (!["true", "false", "1", "0"].includes(text)) {
      problems.push(`${name} must be true or false: current value is "${get(name)}"`);
    }
    return text === "true" || text === "1";
  };
  const oneOf = <T extends string>(name: Name, values: readonly T[]): T => {
    const text = get(name).toLowerCase();
    if (!values.includes(text as T)) {
      problems.push(`${name} must be one of ${values.join(", ")}: current value is "${get(name)}"`);
    }
    return text as T;
  };

  const brokers = get("KAFKA_BROKERS").split(",").map((b) => b.trim()).filter((b) => b !== "");
  for (const broker of brokers) {
    if (!/^[^\s:/]+:\d+$/.test(broker)) {
      problems.push(`KAFKA_BROKERS must list host:port pairs: "${broker}" is not one`);
    }
  }

  const caFile = optional("KAFKA_SSL_CA_FILE");
  const certFile = optional("KAFKA_SSL_CERT_FILE");
  const keyFile = optional("KAFKA_SSL_KEY_FILE");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push("KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE must be set together");
  }
  const useTls = boolean("KAFKA_SSL") || caFile !== undefined || certFile !== undefined;
  const tls: KafkaTls | null = useTls
    ? {
      ...(caFile === undefined ? {} : { caFile }),
      ...(certFile === undefined ? {} : { certFile }),
      ...(keyFile === undefined ? {} : { keyFile }),
      rejectUnauthorized: boolean("KAFKA_SSL_REJECT_UNAUTHORIZED"),
    }
    : null;

  let sasl: KafkaSasl | null = null;
  if (get("KAFKA_SASL_MECHANISM") !== "") {
    const mechanism = oneOf("KAFKA_SASL_MECHANISM", ["plain", "scram-sha-256", "scram-sha-512"]);
    const username = get("KAFKA_SASL_USERNAME");
    const password = get("KAFKA_SASL_PASSWORD");
    if (username === "" || password === "") {
      problems.push(
        "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must be set with KAFKA_SASL_MECHANISM",
      );
    }
    sasl = { mechanism, username, password };
  }

  const databaseUrl = get("DATABASE_URL");
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push("DATABASE_URL must be a postgres:// or postgresql:// URI");
  }
  const databaseTls = readDatabaseTls(databaseUrl, optional("DATABASE_CA_FILE"), env, problems);
  const databaseSchema = optional("DATABASE_SCHEMA");
  if (databaseSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    problems.push(
      `DATABASE_SCHEMA must be a lower-case SQL identifier: current value is "${databaseSchema}"`,
    );
  }

  // Today's and yesterday's partitions are being written to; they are never dropped.
  const checksDays = integer("RETAIN_CHECKS_DAYS", 2);
  const rollupsDays = integer("RETAIN_ROLLUPS_DAYS", 2);
  if (rollupsDays < checksDays) {
    problems.push(
      `RETAIN_ROLLUPS_DAYS must be at least RETAIN_CHECKS_DAYS (${checksDays}): current value is "${rollupsDays}"`,
    );
  }

  const settings: Settings = {
    kafka: {
      brokers,
      clientId: get("KAFKA_CLIENT_ID"),
      topic: get("KAFKA_TOPIC"),
      topicPartitions: integer("KAFKA_TOPIC_PARTITIONS", 1),
      topicReplicationFactor: integer("KAFKA_TOPIC_REPLICATION_FACTOR", -1),
      groupId: get("KAFKA_GROUP_ID"),
      sessionTimeoutMs: integer("KAFKA_SESSION_TIMEOUT_MS", 6_000),
      tls,
      sasl,
    },
    database: {
      url: databaseUrl,
      tls: databaseTls,
      ...(databaseSchema === undefined ? {} : { schema: databaseSchema }),
      writeTimeoutMs: integer("DATABASE_WRITE_TIMEOUT_MS", 100),
      partitionsAheadDays: integer("DATABASE_PARTITIONS_AHEAD_DAYS", 1),
      retention: { checksDays, rollupsDays },
    },
    consume: {
      batchBytes: integer("CONSUME_BATCH_BYTES", 1024),
      lingerMs: integer("CONSUME_LINGER_MS", 0),
      prune: boolean("CONSUME_PRUNE"),
    },
    checkConcurrency: integer("CHECK_CONCURRENCY", 1),
    produceBufferMessages: integer("PRODUCE_BUFFER_MESSAGES", 1),
    shutdownTimeoutMs: integer("SHUTDOWN_TIMEOUT_MS", 0),
    metricsPort: get("METRICS_PORT") === "" ? null : integer("METRICS_PORT", 0),
    logLevel: oneOf("LOG_LEVEL", LOG_LEVELS),
    logFormat: oneOf("LOG_FORMAT", LOG_FORMATS),
  };
  if (problems.length > 0) throw new UsageError(`Invalid settings:\n  ${problems.join("\n  ")}`);
  return settings;
}

/**
 * What in the settings weakens security, as warnings to log at start: each one is the user's
 * explicit choice, but it must not go unnoticed.
 *
 * @param settings From {@link readSettings}.
 * @returns One sentence per weakness.
 *
 * @example
 * ```ts
 * import { insecureSettings, readSettings } from "./settings.ts";
 * const settings = readSettings({ KAFKA_SSL: "true", KAFKA_SSL_REJECT_UNAUTHORIZED: "false" });
 * console.log(insecureSettings(settings).length); // 1
 * ```
 */
export function insecureSettings(settings: Settings): string[] {
  const warnings: string[] = [];
  if (settings.kafka.tls !== null && !settings.kafka.tls.rejectUnauthorized) {
    warnings.push(
      "KAFKA_SSL_REJECT_UNAUTHORIZED is false: the brokers' certificates are not verified",
    );
  }
  const { tls } = settings.database;
  if (tls?.mode === "require" && tls.caFile === undefined) {
    warnings.push(
      "sslmode=require without a CA: the database's certificate is not verified; set DATABASE_CA_FILE (Aiven: the service's CA certificate) to verify it",
    );
  }
  return warnings;
}

/**
 * TLS to PostgreSQL as libpq would choose it: `sslmode` from the URI (default: verify-full when a
 * CA is given, else none); the CA from DATABASE_CA_FILE, PGSSLROOTCERT or `sslrootcert` in the URI
 * (`system`: the system's CAs). `require` with a CA verifies the CA, as in libpq.
 */
function readDatabaseTls(
  url: string,
  caSetting: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): DatabaseTls | null {
  let query: URLSearchParams;
  try {
    query = new URL(url).searchParams;
  } catch {
    return null; // reported as a malformed URI
  }
  const rootCert = query.get("sslrootcert") ?? undefined;
  const [caFile, caName] = caSetting !== undefined
    ? [caSetting, "DATABASE_CA_FILE"]
    : env.PGSSLROOTCERT?.trim()
    ? [env.PGSSLROOTCERT.trim(), "PGSSLROOTCERT"]
    : rootCert !== undefined && rootCert !== "system"
    ? [rootCert, "sslrootcert in DATABASE_URL"]
    : [undefined, undefined];
  const modeText = query.get("sslmode") ?? (query.get("ssl") === "true" ? "require" : undefined);
  let mode: SslMode;
  if (modeText === undefined) {
    if (caFile === undefined && rootCert !== "system") return null;
    mode = "verify-full";
  } else if (!(SSL_MODES as readonly string[]).includes(modeText)) {
    problems.push(
      `DATABASE_URL's sslmode must be one of ${
        SSL_MODES.join(", ")
      }: current value is "${modeText}"`,
    );
    return null;
  } else {
    mode = modeText as SslMode;
  }
  return {
    mode,
    ...(caFile === undefined ? {} : { caFile, caSetting: caName }),
  };
}

/**
 * A connection URI with its password replaced, safe for logs and messages.
 *
 * @param uri A URI such as `postgres://user:secret@host/db`.
 * @returns The same URI with `***` for the password (in the user part or a `password` parameter).
 */
export function redactUri(uri: string): string {
  return uri
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, "$1***@")
    .replace(/([?&]password=)[^&]*/gi, "$1***");
}
