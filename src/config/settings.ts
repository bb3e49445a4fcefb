/**
 * Connection and tuning settings, read once from the environment. Each variable, its default and
 * its meaning is a row of {@link SETTINGS} (`settings_schema.ts`); here they become the
 * {@link Settings} the program reads, every problem at once, and what `monitor settings` shows.
 *
 * @module
 */
import type { z } from "zod";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { databaseTls } from "./database_tls.ts";
import { fileProblems } from "./setting_files.ts";
import { quoted } from "../text.ts";
import { SETTING_NAMES, type SettingName, SETTINGS, settingText } from "./settings_schema.ts";

export type { DatabaseTls } from "./database_tls.ts";
export type { Setting, SettingName } from "./settings_schema.ts";
export { SETTING_NAMES, SETTINGS } from "./settings_schema.ts";
export { readSettingFile } from "./setting_files.ts";

/** The environment, e.g. `Deno.env.toObject()`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The settings that are, or may hold, a secret, each with how `monitor settings` shows it: no
 * message quotes their values.
 */
export const SECRETS: { readonly [K in SettingName]?: (text: string) => string } = {
  KAFKA_SASL_PASSWORD: () => "***",
  DATABASE_URL: redactUri,
  SERVE_API_TOKEN: () => "***",
};

/** Each setting's value. */
type Values = { readonly [K in SettingName]: z.output<typeof SETTINGS[K]["schema"]> };

/** Everything read from the environment, in the shape the program reads it. */
export type Settings = ReturnType<typeof toSettings>;

/** The rules that span settings, each checked when the settings it reads are valid. */
function problemsAcross(values: Partial<Values>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const valid = (...names: SettingName[]) => names.every((name) => name in values);
  const problem = (path: SettingName, message: string) =>
    problems.push({ file: "environment", path, message });
  const { KAFKA_SSL_CERT_FILE: cert, KAFKA_SSL_KEY_FILE: key } = values;
  if (
    valid("KAFKA_SSL_CERT_FILE", "KAFKA_SSL_KEY_FILE") &&
    (cert === undefined) !== (key === undefined)
  ) {
    problem("KAFKA_SSL_CERT_FILE", "and KAFKA_SSL_KEY_FILE must be set together");
  }
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: user } = values;
  if (
    valid("KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD") &&
    mechanism !== undefined && (user === undefined || values.KAFKA_SASL_PASSWORD === undefined)
  ) {
    problem("KAFKA_SASL_USERNAME", "and KAFKA_SASL_PASSWORD must be set with KAFKA_SASL_MECHANISM");
  }
  // Those with a default are undefined only when invalid.
  if (values.KAFKA_TOPIC !== undefined && values.KAFKA_SITES_TOPIC === values.KAFKA_TOPIC) {
    // Sites on the results topic would be dead letters to `consume`, and compaction of results
    // would keep one check per site.
    problem("KAFKA_SITES_TOPIC", `must differ from KAFKA_TOPIC: both are "${values.KAFKA_TOPIC}"`);
  }
  const { RETAIN_CHECKS_DAYS: checksDays, RETAIN_ROLLUPS_DAYS: rollupsDays } = values;
  if (checksDays !== undefined && rollupsDays !== undefined && rollupsDays < checksDays) {
    problem(
      "RETAIN_ROLLUPS_DAYS",
      `must be at least RETAIN_CHECKS_DAYS (${checksDays}): current value is "${rollupsDays}"`,
    );
  }
  return problems;
}

function toSettings(values: Values) {
  const { KAFKA_SSL_CA_FILE: caFile, KAFKA_SSL_CERT_FILE: certFile } = values;
  const { KAFKA_SSL_KEY_FILE: keyFile, KAFKA_SASL_MECHANISM: mechanism } = values;
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
      // Null: plain TCP. Any file implies TLS; verification is off only when turned off.
      tls: values.KAFKA_SSL || caFile !== undefined || certFile !== undefined
        ? {
          ...(caFile === undefined ? {} : { caFile }),
          ...(certFile === undefined ? {} : { certFile }),
          ...(keyFile === undefined ? {} : { keyFile }),
          rejectUnauthorized: values.KAFKA_SSL_REJECT_UNAUTHORIZED,
        } as const
        : null,
      // Checked across settings: with a mechanism, both are set.
      sasl: mechanism === undefined ? null : {
        mechanism,
        username: values.KAFKA_SASL_USERNAME ?? "",
        password: values.KAFKA_SASL_PASSWORD ?? "",
      } as const,
    },
    database: {
      url: values.DATABASE_URL,
      tls: databaseTls(values.DATABASE_URL, values), // null: plain TCP
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
    checkBodyMemoryBytes: values.CHECK_BODY_MEMORY_BYTES ?? null, // null: from the heap limit
    region: values.MONITOR_REGION,
    checkDenyNetworks: values.CHECK_DENY_NETWORKS,
    produceBufferMessages: values.PRODUCE_BUFFER_MESSAGES,
    shutdownTimeoutMs: values.SHUTDOWN_TIMEOUT_MS,
    serve: {
      address: values.SERVE_ADDRESS,
      port: values.SERVE_PORT,
      apiToken: values.SERVE_API_TOKEN ?? null,
      // null: every site
      sites: values.SERVE_SITES?.split(",").map((id) => id.trim()) ?? null,
      showUrls: values.SERVE_SHOW_URLS,
    },
    metricsPort: values.METRICS_PORT ?? null,
    logLevel: values.LOG_LEVEL,
    logFormat: values.LOG_FORMAT,
  } as const;
}

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
  const values: Partial<Record<SettingName, unknown>> = {};
  const problems: ConfigProblem[] = [];
  // One at a time, not one z.object: zod skips an object's refinements after an aborting issue
  // (z.stringbool's is one), and the rules across settings must run whatever else is wrong.
  for (const name of SETTING_NAMES) {
    const parsed = SETTINGS[name].schema.safeParse(env[name]?.trim() || undefined);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(...parsed.error.issues.map((issue) => toProblem(env, name, issue)));
  }
  problems.push(...problemsAcross(values as Partial<Values>));
  if (options.readFile !== undefined) problems.push(...fileProblems(env, options.readFile));
  if (problems.length > 0) throw new SettingsError(inSettingOrder(problems));
  return toSettings(values as Values);
}

/** Zod's own checks name the rule, and the value follows unless it is secret; others say it all. */
function toProblem(env: Environment, name: SettingName, issue: z.core.$ZodIssue): ConfigProblem {
  const [part] = issue.path;
  const message = issue.code === "custom" || part !== undefined
    ? issue.message
    : name in SECRETS
    ? `${issue.message} (the value is not shown: it may hold a secret)`
    : `${issue.message}: current value is ${quoted(settingText(env, name))}`;
  // A part with a name: DATABASE_URL's sslmode; a list's entry is named by its message.
  return {
    file: "environment",
    path: typeof part === "string" ? `${name}'s ${part}` : name,
    message,
  };
}

/** The problem list follows the table of docs/configuration.md; problems of one setting keep their order. */
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
 * Every setting's text as the monitor uses it, for `monitor settings`, with {@link SECRETS} masked.
 *
 * @param env The environment; its settings should have passed {@link readSettings}.
 * @returns One entry per setting, in the order of docs/configuration.md.
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
    const mask = SECRETS[name];
    return { name, shown: mask && text !== "" ? mask(text) : text, isDefault: !env[name]?.trim() };
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
