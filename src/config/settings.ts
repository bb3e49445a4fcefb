/**
 * The rows of {@link SETTINGS} read once from the environment, every problem at once.
 *
 * @module
 */
import type { z } from "zod";
import { ConfigError, type ConfigProblem, UsageError } from "../errors.ts";
import { NO_CONTROL_CHARACTERS, quoted } from "../text.ts";
import { osReason } from "./text_file.ts";
import { SETTING_NAMES, type SettingName, SETTINGS, type SSL_MODES } from "./settings_schema.ts";

type Environment = Readonly<Record<string, string | undefined>>;

/** The settings that are or may hold a secret, masked by `monitor settings`, quoted by no message. */
export const SECRETS: { readonly [K in SettingName]?: (text: string) => string } = {
  KAFKA_SASL_PASSWORD: () => "***",
  DATABASE_URL: redactUri,
  SERVE_API_TOKEN: () => "***",
};

type Values = { readonly [K in SettingName]: z.output<typeof SETTINGS[K]["schema"]> };

/** Everything read from the environment, in the shape the program reads it. */
export type Settings = ReturnType<typeof toSettings>;

/** The rules that span settings, each checked when the settings it reads are valid. */
function problemsAcross(values: Partial<Values>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const valid = (...names: SettingName[]) => names.every((name) => name in values);
  const problem = (path: SettingName, message: string) =>
    problems.push({ file: "environment", path, message });
  const { KAFKA_SSL_CERT_FILE: cert, KAFKA_SSL_KEY_FILE: key, KAFKA_SASL_MECHANISM: sasl } = values;
  if (valid("KAFKA_SSL_CERT_FILE", "KAFKA_SSL_KEY_FILE") && !cert !== !key) {
    problem("KAFKA_SSL_CERT_FILE", "and KAFKA_SSL_KEY_FILE must be set together");
  }
  if (
    valid("KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD") &&
    sasl !== undefined &&
    (values.KAFKA_SASL_USERNAME === undefined || values.KAFKA_SASL_PASSWORD === undefined)
  ) {
    problem("KAFKA_SASL_USERNAME", "and KAFKA_SASL_PASSWORD must be set with KAFKA_SASL_MECHANISM");
  }
  // Sites on the results topic would be dead letters to `consume`; compaction would keep one a site.
  if (values.KAFKA_TOPIC !== undefined && values.KAFKA_SITES_TOPIC === values.KAFKA_TOPIC) {
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
      sites: values.SERVE_SITES?.split(",").map((id) => id.trim()) ?? null, // null: every site
      showUrls: values.SERVE_SHOW_URLS,
    },
    metricsPort: values.METRICS_PORT ?? null,
    logLevel: values.LOG_LEVEL,
    logFormat: values.LOG_FORMAT,
  } as const;
}

/** TLS to PostgreSQL; `caSetting` names the setting that named `caFile` (unset: the system's CAs). */
export interface DatabaseTls {
  readonly mode: typeof SSL_MODES[number];
  readonly caFile?: string;
  readonly caSetting?: string;
}

/** TLS to PostgreSQL as libpq would choose it (null: plain TCP); throws for a malformed URI. */
function databaseTls(uri: string, ca: Partial<Values>): DatabaseTls | null {
  const query = new URL(uri).searchParams;
  const rootCert = query.get("sslrootcert") ?? undefined;
  const [caFile, caSetting] = ca.DATABASE_CA_FILE !== undefined
    ? [ca.DATABASE_CA_FILE, "DATABASE_CA_FILE"]
    : ca.PGSSLROOTCERT !== undefined
    ? [ca.PGSSLROOTCERT, "PGSSLROOTCERT"]
    : rootCert !== undefined && rootCert !== "system"
    ? [rootCert, "sslrootcert in DATABASE_URL"]
    : [undefined, undefined];
  const mode = query.get("sslmode") ?? (query.get("ssl") === "true" ? "require" : undefined);
  if (mode === undefined && caFile === undefined && rootCert !== "system") return null;
  return {
    mode: (mode ?? "verify-full") as DatabaseTls["mode"],
    ...(caFile === undefined ? {} : { caFile, caSetting }),
  };
}

/** Reads a PEM file that `setting` names; a UsageError names both when it cannot. */
export function readPem(setting: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new UsageError(`${setting} "${path}" cannot be read: ${(error as Error).message}`);
  }
}

/** The settings' problems, all of them, each with its variable as the path; exit 2. */
export class SettingsError extends ConfigError {
  override name = "SettingsError";
  constructor(problems: readonly ConfigProblem[]) {
    super(problems);
    const lines = problems.map((problem) => `  ${problem.path} ${problem.message}`);
    this.message = `Invalid settings:\n${lines.join("\n")}`;
  }
}

/** Reads the settings (with `readFile`, their PEM files too); a SettingsError lists all problems. */
export function readSettings(
  env: Environment,
  options: { readonly readFile?: (path: string) => string } = {},
): Settings {
  const values: Partial<Record<SettingName, unknown>> = {};
  const problems: ConfigProblem[] = [];
  // One at a time: a z.object would skip the rules across after an aborting issue (z.stringbool's).
  for (const name of SETTING_NAMES) {
    const parsed = SETTINGS[name].schema.safeParse(env[name]?.trim() || undefined);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(...parsed.error.issues.map((issue) => toProblem(env, name, issue)));
  }
  problems.push(...problemsAcross(values as Partial<Values>));
  if (options.readFile !== undefined) problems.push(...fileProblems(env, options.readFile));
  const rank = (problem: ConfigProblem) =>
    SETTING_NAMES.findIndex((name) => problem.path === name || problem.path.startsWith(`${name}'`));
  if (problems.length > 0) throw new SettingsError(problems.toSorted((a, b) => rank(a) - rank(b)));
  return toSettings(values as Values);
}

function toProblem(env: Environment, name: SettingName, issue: z.core.$ZodIssue): ConfigProblem {
  const [part] = issue.path; // DATABASE_URL's sslmode; a list's entry is named by its message
  const message = issue.code === "custom" || part !== undefined
    ? issue.message
    : name in SECRETS
    ? `${issue.message} (the value is not shown: it may hold a secret)`
    : `${issue.message}: current value is ${quoted(settingText(env, name))}`;
  const path = typeof part === "string" ? `${name}'s ${part}` : name;
  return { file: "environment", path, message };
}

function fileProblems(env: Environment, readFile: (path: string) => string): ConfigProblem[] {
  const files: [string, string][] = SETTING_NAMES
    .filter((name) => SETTINGS[name].kind.type === "file" && settingText(env, name) !== "")
    .map((name) => [name, settingText(env, name)]);
  // No CA setting: the file `sslrootcert` names, unless `system` (bad URIs or paths: other problems).
  const uri = settingText(env, "DATABASE_URL");
  const rootCert = URL.canParse(uri) ? databaseTls(uri, {})?.caFile : undefined;
  if (rootCert !== undefined) files.push(["DATABASE_URL's sslrootcert", rootCert]);
  return files.filter(([, path]) => NO_CONTROL_CHARACTERS.test(path)).flatMap(([setting, path]) => {
    const problem = (message: string) => [{ file: "environment", path: setting, message }];
    try {
      if (readFile(path).includes("-----BEGIN ")) return [];
    } catch (error) {
      return problem(`${quoted(path)} ${osReason(error)}`);
    }
    return problem(`${quoted(path)} is not a PEM file: it has no "-----BEGIN" line`);
  });
}

function settingText(env: Environment, name: SettingName): string {
  return env[name]?.trim() || SETTINGS[name].default;
}

/** Every setting's text as the monitor uses it, {@link SECRETS} masked, in the table's order. */
export function showSettings(env: Environment) {
  return SETTING_NAMES.map((name) => {
    const text = settingText(env, name);
    const mask = SECRETS[name];
    return { name, shown: mask && text !== "" ? mask(text) : text, isDefault: !env[name]?.trim() };
  });
}

/** What in the settings weakens security: each is the user's choice, but must not go unnoticed. */
export function insecureSettings(settings: Settings): string[] {
  const warnings: string[] = [];
  if (settings.kafka.tls?.rejectUnauthorized === false) {
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
 * A connection URI safe for logs: `***` for the password (to the user part's last `@`, as URL
 * parsers read it) and for each parameter whose decoded name has "pass", "secret", "token" or "key".
 */
export function redactUri(uri: string): string {
  return uri
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)[^/?#]*@/i, "$1***@")
    .replace(/([?&])([^=&#]*)=[^&#]*/g, (parameter, separator: string, name: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replaceAll("+", " "));
      } catch { /* as written */ }
      return /pass|secret|token|key/i.test(decoded) ? `${separator}${name}=***` : parameter;
    });
}
