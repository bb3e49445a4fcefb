/**
 * Connection and tuning settings, read once from the environment. Every setting, its default and
 * its meaning is declared once, in {@link SETTINGS} (`settings_schema.ts`): the values, the
 * problems, `monitor settings` and the README's table all come from there.
 *
 * @module
 */
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { type DatabaseTls, databaseTls } from "./database_tls.ts";
import {
  type LogFormat,
  type LogLevel,
  type SaslMechanism,
  SETTING_NAMES,
  type SettingName,
  SETTINGS,
  settingText,
  type SettingValues,
  settingValuesSchema,
} from "./settings_schema.ts";
import { fileProblems } from "./setting_files.ts";

export type { DatabaseTls, SslMode } from "./database_tls.ts";
export { SSL_MODES } from "./database_tls.ts";
export type { LogFormat, LogLevel, Setting, SettingName } from "./settings_schema.ts";
export { LOG_FORMATS, LOG_LEVELS, SETTING_NAMES, SETTINGS } from "./settings_schema.ts";
export { readSettingFile } from "./setting_files.ts";

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
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** Everything read from the environment. */
export interface Settings {
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly topic: string;
    readonly topicPartitions: number;
    readonly topicReplicationFactor: number;
    /** The compacted topic of the sites, keyed by site id. */
    readonly sitesTopic: string;
    /** Partitions of the sites topic when the monitor creates it. */
    readonly sitesPartitions: number;
    readonly groupId: string;
    /** Consumer group of `monitor alert`. */
    readonly alertGroupId: string;
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
  /** Most body bytes the checks in progress keep together; null: derived from the heap limit. */
  readonly checkBodyMemoryBytes: number | null;
  /** The checker's region. */
  readonly region: string;
  /** Networks (CIDR) no check may connect to. */
  readonly checkDenyNetworks: readonly string[];
  /** Most results `monitor produce` holds while Kafka is unreachable. */
  readonly produceBufferMessages: number;
  /** How long a stopping command may take to hand over what it holds. */
  readonly shutdownTimeoutMs: number;
  /** Port of the Prometheus metrics and health endpoint; null: none. */
  readonly metricsPort: number | null;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

/** The environment, e.g. `Deno.env.toObject()`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The settings' problems, all of them; a {@link ConfigError} whose "file" is the environment and
 * whose paths are the variables. `monitor` exits 2 with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SettingsError } from "./settings.ts";
 * const error = new SettingsError([
 *   { file: "environment", path: "LOG_LEVEL", message: 'must be one of error, warn, info, debug: current value is "loud"' },
 * ]);
 * assert.equal(error.message.split("\n")[1], '  LOG_LEVEL must be one of error, warn, info, debug: current value is "loud"');
 * ```
 */
export class SettingsError extends ConfigError {
  override name = "SettingsError";

  /** @param problems At least one, each with the variable as its path. */
  constructor(problems: readonly ConfigProblem[]) {
    super(problems);
    this.message = `Invalid settings:\n${
      problems.map((p) => `  ${p.path} ${p.message}`).join("\n")
    }`;
  }
}

/** Options of {@link readSettings}. */
export interface ReadSettingsOptions {
  /**
   * Reads a file a setting names, throwing an error that says why it cannot; given, every such
   * file must be readable PEM, so a wrong path is reported with the other problems, before
   * anything connects. `readSettingFile` is the real one.
   */
  readonly readFile?: (path: string) => string;
}

/**
 * Reads the settings.
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @param options Whether the files that settings name are checked too.
 * @returns The settings, defaults applied.
 * @throws {SettingsError} Listing every problem, each naming its variable; never with a secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSettings, SettingsError } from "./settings.ts";
 * const settings = readSettings({ KAFKA_TOPIC: "checks" });
 * assert.deepEqual([settings.kafka.topic, settings.kafka.brokers], ["checks", ["127.0.0.1:19092"]]);
 * assert.throws(() => readSettings({ CHECK_CONCURRENCY: "many" }), SettingsError);
 * ```
 */
export function readSettings(env: Environment, options: ReadSettingsOptions = {}): Settings {
  const parsed = settingValuesSchema.safeParse(env);
  const problems: ConfigProblem[] = parsed.success ? [] : parsed.error.issues.map((issue) => ({
    file: "environment",
    path: issue.path.map(String).join("'s "), // DATABASE_URL's sslmode
    message: issue.message,
  }));
  if (options.readFile !== undefined) problems.push(...fileProblems(env, options.readFile));
  if (!parsed.success || problems.length > 0) throw new SettingsError(inSettingOrder(problems));
  return toSettings(parsed.data);
}

function toSettings(values: SettingValues): Settings {
  const { KAFKA_SSL_CA_FILE: caFile, KAFKA_SSL_CERT_FILE: certFile } = values;
  const keyFile = values.KAFKA_SSL_KEY_FILE;
  const useTls = values.KAFKA_SSL || caFile !== undefined || certFile !== undefined;
  const mechanism = values.KAFKA_SASL_MECHANISM;
  return {
    kafka: {
      brokers: values.KAFKA_BROKERS,
      clientId: values.KAFKA_CLIENT_ID,
      topic: values.KAFKA_TOPIC,
      topicPartitions: values.KAFKA_TOPIC_PARTITIONS,
      topicReplicationFactor: values.KAFKA_TOPIC_REPLICATION_FACTOR,
      sitesTopic: values.KAFKA_SITES_TOPIC,
      sitesPartitions: values.KAFKA_SITES_PARTITIONS,
      groupId: values.KAFKA_GROUP_ID,
      alertGroupId: values.KAFKA_ALERT_GROUP_ID,
      sessionTimeoutMs: values.KAFKA_SESSION_TIMEOUT_MS,
      tls: useTls
        ? {
          ...(caFile === undefined ? {} : { caFile }),
          ...(certFile === undefined ? {} : { certFile }),
          ...(keyFile === undefined ? {} : { keyFile }),
          rejectUnauthorized: values.KAFKA_SSL_REJECT_UNAUTHORIZED,
        }
        : null,
      // Checked across settings: with a mechanism, both are set.
      sasl: mechanism === undefined ? null : {
        mechanism,
        username: values.KAFKA_SASL_USERNAME ?? "",
        password: values.KAFKA_SASL_PASSWORD ?? "",
      },
    },
    database: {
      url: values.DATABASE_URL,
      tls: databaseTls(values.DATABASE_URL, values),
      ...(values.DATABASE_SCHEMA === undefined ? {} : { schema: values.DATABASE_SCHEMA }),
      writeTimeoutMs: values.DATABASE_WRITE_TIMEOUT_MS,
      partitionsAheadDays: values.DATABASE_PARTITIONS_AHEAD_DAYS,
      retention: { checksDays: values.RETAIN_CHECKS_DAYS, rollupsDays: values.RETAIN_ROLLUPS_DAYS },
    },
    consume: {
      batchBytes: values.CONSUME_BATCH_BYTES,
      lingerMs: values.CONSUME_LINGER_MS,
      prune: values.CONSUME_PRUNE,
    },
    checkConcurrency: values.CHECK_CONCURRENCY,
    checkBodyMemoryBytes: values.CHECK_BODY_MEMORY_BYTES ?? null,
    region: values.MONITOR_REGION,
    checkDenyNetworks: values.CHECK_DENY_NETWORKS,
    produceBufferMessages: values.PRODUCE_BUFFER_MESSAGES,
    shutdownTimeoutMs: values.SHUTDOWN_TIMEOUT_MS,
    metricsPort: values.METRICS_PORT ?? null,
    logLevel: values.LOG_LEVEL,
    logFormat: values.LOG_FORMAT,
  };
}

/** The problem list follows the README's table; problems of one setting keep their order. */
function inSettingOrder(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const rank = (problem: ConfigProblem) =>
    SETTING_NAMES.findIndex((name) => problem.path === name || problem.path.startsWith(`${name}'`));
  return problems.toSorted((a, b) => rank(a) - rank(b));
}

/** One line of `monitor settings`. */
export interface ShownSetting {
  readonly name: SettingName;
  /** The value in use, secrets masked. */
  readonly shown: string;
  /** Whether it is the default (the variable is unset or blank). */
  readonly isDefault: boolean;
}

/**
 * Every setting's text as the monitor uses it, for `monitor settings`: passwords are `***` and
 * URIs have their password masked.
 *
 * @param env The environment; its settings should have passed {@link readSettings}.
 * @returns One entry per setting, in declaration order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { showSettings } from "./settings.ts";
 * const shown = showSettings({ KAFKA_SASL_PASSWORD: "s3cr3t", DATABASE_URL: "postgres://u:pw@h/db" });
 * assert.deepEqual(shown.find((s) => s.name === "KAFKA_SASL_PASSWORD"), {
 *   name: "KAFKA_SASL_PASSWORD",
 *   shown: "***",
 *   isDefault: false,
 * });
 * assert.equal(shown.find((s) => s.name === "DATABASE_URL")?.shown, "postgres://u:***@h/db");
 * ```
 */
export function showSettings(env: Environment): ShownSetting[] {
  return SETTING_NAMES.map((name) => {
    const text = settingText(env, name);
    const { type } = SETTINGS[name].kind;
    const shown = type === "secret" && text !== ""
      ? "***"
      : type === "postgresUri"
      ? redactUri(text)
      : text;
    return { name, shown, isDefault: !env[name]?.trim() };
  });
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
 * import assert from "node:assert/strict";
 * import { insecureSettings, readSettings } from "./settings.ts";
 * const settings = readSettings({ KAFKA_SSL: "true", KAFKA_SSL_REJECT_UNAUTHORIZED: "false" });
 * assert.equal(insecureSettings(settings).length, 1);
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
 * A connection URI with its password replaced, safe for logs and messages.
 *
 * @param uri A URI such as `postgres://user:secret@host/db`.
 * @returns The same URI with `***` for the password (in the user part, up to its last `@`, as a
 *   URL parser reads it) and for each parameter whose name, decoded, says it holds a secret
 *   ({@link SECRET_PARAMETER}: libpq's `password` and `sslpassword`, and any other such name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactUri } from "./settings.ts";
 * assert.equal(redactUri("postgres://u:p@ss@db.example/app"), "postgres://u:***@db.example/app");
 * assert.equal(
 *   redactUri("postgres://db.example/app?sslmode=require&sslpassword=k3y"),
 *   "postgres://db.example/app?sslmode=require&sslpassword=***",
 * );
 * ```
 */
export function redactUri(uri: string): string {
  return uri
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)[^/?#]*@/i, "$1***@")
    .replace(
      /([?&])([^=&#]*)=[^&#]*/g,
      (parameter, separator: string, name: string) =>
        SECRET_PARAMETER.test(decoded(name)) ? `${separator}${name}=***` : parameter,
    );
}

/**
 * The name of a URI parameter that holds a secret, or may: libpq's `password` and `sslpassword`,
 * and, since a driver may take others (and a key file's path tells little), any name with "pass",
 * "secret", "token" or "key" in it.
 */
const SECRET_PARAMETER = /pass|secret|token|key/i;

/** A parameter name as a driver reads it (`ssl%70assword` is `sslpassword`). */
function decoded(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll("+", " "));
  } catch {
    return name;
  }
}
