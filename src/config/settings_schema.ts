/**
 * Every environment variable the monitor reads, declared once: its kind (how its text is parsed
 * and checked), its default and its meaning. The zod schema of the environment, `monitor
 * settings` and the README's table all come from {@link SETTINGS}.
 *
 * @module
 */
import { z } from "zod";
import {
  boolean,
  choice,
  file,
  hostPorts,
  integer,
  networks,
  postgresUri,
  secret,
  type SettingKind,
  text,
  type ValueKind,
} from "./setting_kinds.ts";

/** Log line formats. */
export const LOG_FORMATS = ["text", "json"] as const;
/** One of {@link LOG_FORMATS}. */
export type LogFormat = typeof LOG_FORMATS[number];

/** Log levels, least to most verbose. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** SASL mechanisms Kafka accepts from us. */
export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;
/** One of {@link SASL_MECHANISMS}. */
export type SaslMechanism = typeof SASL_MECHANISMS[number];

/** Longest a timeout may be: beyond a day it is a typo (and beyond int32, timers fire at once). */
const DAY_MS = 86_400_000;

/** One environment variable. */
export interface Setting<T> {
  /** How its text is parsed and checked. */
  readonly kind: SettingKind;
  /** The text used when it is unset or blank; `""`: none. */
  readonly default: string;
  /** What it means, as the README's table says it. */
  readonly description: string;
  /** From its text (unset, or blank after trimming: the default) to its value. */
  readonly schema: z.ZodType<T, string | undefined>;
}

function setting<T, const D extends string>(
  value: ValueKind<T>,
  defaultText: D,
  description: string,
): Setting<D extends "" ? T | undefined : T> {
  // `.default()` makes zod run this for an absent variable too.
  const schema = z.string().default(defaultText)
    .transform((given) => given.trim() || defaultText || undefined)
    .pipe(value.schema.optional());
  // With a default the text is never undefined, so neither is the value.
  return { kind: value.kind, default: defaultText, description, schema } as Setting<
    D extends "" ? T | undefined : T
  >;
}

/**
 * A region's name (`MONITOR_REGION`, `--region`), as results carry it: letters, digits, `.`, `_`
 * and `-`, so that it fits in a consumer group's name, a User-Agent and a terminal.
 */
export const REGION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Every environment variable read, in the order the README lists them. */
export const SETTINGS = {
  KAFKA_BROKERS: setting(
    hostPorts(),
    "127.0.0.1:19092",
    "Comma-separated host:port list of Kafka bootstrap brokers",
  ),
  KAFKA_TOPIC: setting(
    text({ regex: /^[A-Za-z0-9._-]{1,249}$/, rule: '1 to 249 letters, digits, ".", "_" or "-"' }),
    "website-checks",
    "Topic the check results are published to",
  ),
  KAFKA_TOPIC_PARTITIONS: setting(
    integer(1),
    "6",
    "Partitions of the topic when the monitor creates it",
  ),
  KAFKA_TOPIC_REPLICATION_FACTOR: setting(
    integer(-1, 32_767),
    "-1",
    "Replication factor of the topics the monitor creates (results and sites); -1: the broker's default",
  ),
  KAFKA_SITES_TOPIC: setting(
    text({ regex: /^[A-Za-z0-9._-]{1,249}$/, rule: '1 to 249 letters, digits, ".", "_" or "-"' }),
    "website-sites",
    "Compacted topic of the sites, keyed by site id: `monitor sites apply` writes it, `monitor sites list` reads it",
  ),
  KAFKA_SITES_PARTITIONS: setting(
    integer(1),
    "12",
    "Partitions of the sites topic when the monitor creates it: the unit of work shared among checkers, so 12 spreads evenly over 1, 2, 3, 4 or 6 of them",
  ),
  KAFKA_CLIENT_ID: setting(text(), "website-monitor", "Client id sent to Kafka"),
  KAFKA_GROUP_ID: setting(
    text(),
    "website-monitor-db-writer",
    "Consumer group of `monitor consume`",
  ),
  KAFKA_ALERT_GROUP_ID: setting(
    text(),
    "website-monitor-alerter",
    "Consumer group of `monitor alert` (one alerter works at a time per group; others wait)",
  ),
  KAFKA_SESSION_TIMEOUT_MS: setting(
    integer(6_000, DAY_MS),
    "30000",
    "How long the group waits for a silent consumer before giving its partitions to another",
  ),
  KAFKA_SSL: setting(
    boolean(),
    "false",
    "`true` to connect with TLS (implied by any KAFKA_SSL_*_FILE)",
  ),
  KAFKA_SSL_CA_FILE: setting(
    file(),
    "",
    "CA certificate (PEM) that signed the brokers' certificates, e.g. Aiven's ca.pem",
  ),
  KAFKA_SSL_CERT_FILE: setting(
    file(),
    "",
    "Client certificate (PEM) for TLS client authentication, e.g. Aiven's service.cert",
  ),
  KAFKA_SSL_KEY_FILE: setting(file(), "", "Client private key (PEM), e.g. Aiven's service.key"),
  KAFKA_SSL_REJECT_UNAUTHORIZED: setting(
    boolean(),
    "true",
    "`false` turns broker certificate verification off (never in production)",
  ),
  KAFKA_SASL_MECHANISM: setting(
    choice(SASL_MECHANISMS),
    "",
    "`plain`, `scram-sha-256` or `scram-sha-512` to authenticate with SASL",
  ),
  KAFKA_SASL_USERNAME: setting(text(), "", "SASL user name"),
  KAFKA_SASL_PASSWORD: setting(secret(), "", "SASL password"),
  DATABASE_URL: setting(
    postgresUri(),
    "postgres://postgres@127.0.0.1:54329/postgres",
    "PostgreSQL connection URI; `?sslmode=require` as Aiven gives it works",
  ),
  DATABASE_CA_FILE: setting(
    file(),
    "",
    "CA certificate (PEM) to verify the database server with, e.g. Aiven's ca.pem; without `sslmode`: verify-full. PGSSLROOTCERT works too",
  ),
  PGSSLROOTCERT: setting(
    file(),
    "",
    "libpq's name for DATABASE_CA_FILE, used when that is unset (and before `sslrootcert` in DATABASE_URL)",
  ),
  DATABASE_SCHEMA: setting(
    text({ regex: /^[a-z_][a-z0-9_]{0,62}$/, rule: "a lower-case SQL identifier" }),
    "",
    "Schema for the monitor's tables (created by `monitor migrate`); unset: the server's search_path",
  ),
  DATABASE_WRITE_TIMEOUT_MS: setting(
    integer(100, DAY_MS),
    "30000",
    "How long `monitor consume` waits on one batch write before logging and heartbeating again",
  ),
  DATABASE_PARTITIONS_AHEAD_DAYS: setting(
    integer(1, 366),
    "7",
    "Days of daily `checks` partitions that `monitor migrate` and `monitor consume` create ahead",
  ),
  // Today's and yesterday's partitions are being written to; they are never dropped.
  RETAIN_CHECKS_DAYS: setting(
    integer(2),
    "30",
    "Days raw checks are kept by `monitor prune`; older days are dropped whole",
  ),
  RETAIN_ROLLUPS_DAYS: setting(
    integer(2),
    "400",
    "Days hourly rollups are kept by `monitor prune`; older months are dropped whole",
  ),
  CONSUME_BATCH_BYTES: setting(
    integer(1024),
    "1048576",
    "Most bytes `monitor consume` fetches per partition at once; each fetch is stored in one statement (more when PostgreSQL refuses a row)",
  ),
  CONSUME_LINGER_MS: setting(
    integer(0, DAY_MS),
    "100",
    "How long the broker may wait for a full batch before `monitor consume` gets a smaller one",
  ),
  CONSUME_PRUNE: setting(
    boolean(),
    "false",
    "`true`: `monitor consume` also runs `monitor prune` once an hour",
  ),
  CHECK_CONCURRENCY: setting(
    integer(1),
    "200",
    "Most checks in progress at once in `monitor produce`",
  ),
  CHECK_BODY_MEMORY_BYTES: setting(
    integer(1_048_576),
    "",
    "Most body bytes `monitor produce` keeps at once over all its checks (only a site with a `pattern` keeps its body); past it the largest bodies fail as `body_too_large`. Unset: a quarter of the JavaScript heap limit (64 MiB with `--max-heap-size=256`)",
  ),
  MONITOR_REGION: setting(
    text({
      regex: REGION_PATTERN,
      rule: 'a letter or digit, then up to 62 letters, digits, ".", "_" or "-"',
    }),
    "default",
    "Where `monitor produce` checks from (or `--region`): results and the User-Agent say it; without `--config`, the checkers of one region share the sites topic's sites (consumer group `monitor-checkers-REGION`)",
  ),
  CHECK_DENY_NETWORKS: setting(
    networks(),
    "169.254.0.0/16,fe80::/10,fd00:ec2::254/128,100.100.100.200/32",
    "Networks checks never connect to (`none`: no limit), judged on the resolved address of every request and redirect hop; a site there fails as `denied`. The default: link-local (most clouds' metadata services), AWS's IPv6 and Alibaba's metadata addresses",
  ),
  PRODUCE_BUFFER_MESSAGES: setting(
    integer(1),
    "100000",
    "Most results `monitor produce` holds while Kafka is unreachable; beyond it the oldest are dropped, counted and logged",
  ),
  SHUTDOWN_TIMEOUT_MS: setting(
    integer(0, DAY_MS),
    "8000",
    "How long `produce` takes at most to stop after SIGINT/SIGTERM: checks in progress get three quarters of it and are then abandoned (never recorded as down), the rest publishes what it holds; what was lost is logged",
  ),
  METRICS_PORT: setting(
    integer(0, 65_535),
    "",
    "Port for Prometheus metrics (`/metrics`) and health (`/healthz`); also `--metrics-port`. Unset: none",
  ),
  LOG_LEVEL: setting(choice(LOG_LEVELS), "info", "`error`, `warn`, `info` or `debug`"),
  LOG_FORMAT: setting(
    choice(LOG_FORMATS),
    "text",
    "`text` (readable) or `json` (one object per line); also `--log-format`",
  ),
} as const;

/** The name of an environment variable the monitor reads. */
export type SettingName = keyof typeof SETTINGS;

/**
 * The text of a setting as the monitor uses it: trimmed, the default when unset or blank.
 *
 * @param env The environment.
 * @param name The setting.
 * @returns The text; `""` when it is unset and has no default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settingText } from "./settings_schema.ts";
 * assert.equal(settingText({ LOG_LEVEL: "  " }, "LOG_LEVEL"), "info");
 * ```
 */
export function settingText(
  env: Readonly<Record<string, string | undefined>>,
  name: SettingName,
): string {
  return env[name]?.trim() || SETTINGS[name].default;
}

/** The names, in declaration order. */
export const SETTING_NAMES = Object.keys(SETTINGS) as readonly SettingName[];

type Fields = { readonly [K in SettingName]: typeof SETTINGS[K]["schema"] };
const fields = Object.fromEntries(
  SETTING_NAMES.map((name) => [name, SETTINGS[name].schema]),
) as Fields;

/**
 * The environment (every other variable is ignored) → each setting's value, defaults applied, with
 * the rules that span settings checked too, even when some setting is invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settingValuesSchema } from "./settings_schema.ts";
 * const values = settingValuesSchema.parse({ KAFKA_TOPIC_PARTITIONS: " 12 ", HOME: "/root" });
 * assert.equal(values.KAFKA_TOPIC_PARTITIONS, 12);
 * assert.equal(values.KAFKA_TOPIC, "website-checks");
 * ```
 */
export const settingValuesSchema = z.object(fields).superRefine(checkAcrossSettings, {
  // Listing every problem at once: a rule runs when the settings it reads are valid.
  when: () => true,
});

/** Each setting's value. */
export type SettingValues = z.output<typeof settingValuesSchema>;

function checkAcrossSettings(values: SettingValues, context: z.RefinementCtx<SettingValues>): void {
  const invalid = new Set(context.issues.map((issue) => issue.path?.[0]));
  const valid = (...names: SettingName[]) => names.every((name) => !invalid.has(name));
  const problem = (name: SettingName, message: string) =>
    context.addIssue({ code: "custom", path: [name], message, input: values[name] });

  if (
    valid("KAFKA_SSL_CERT_FILE", "KAFKA_SSL_KEY_FILE") &&
    (values.KAFKA_SSL_CERT_FILE === undefined) !== (values.KAFKA_SSL_KEY_FILE === undefined)
  ) {
    problem("KAFKA_SSL_CERT_FILE", "and KAFKA_SSL_KEY_FILE must be set together");
  }
  if (
    valid("KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD") &&
    values.KAFKA_SASL_MECHANISM !== undefined &&
    (values.KAFKA_SASL_USERNAME === undefined || values.KAFKA_SASL_PASSWORD === undefined)
  ) {
    problem("KAFKA_SASL_USERNAME", "and KAFKA_SASL_PASSWORD must be set with KAFKA_SASL_MECHANISM");
  }
  if (
    valid("KAFKA_TOPIC", "KAFKA_SITES_TOPIC") && values.KAFKA_SITES_TOPIC === values.KAFKA_TOPIC
  ) {
    // Sites on the results topic would be dead letters to `consume`, and compaction of results
    // would keep one check per site.
    problem("KAFKA_SITES_TOPIC", `must differ from KAFKA_TOPIC: both are "${values.KAFKA_TOPIC}"`);
  }
  const { RETAIN_CHECKS_DAYS: checksDays, RETAIN_ROLLUPS_DAYS: rollupsDays } = values;
  if (valid("RETAIN_CHECKS_DAYS", "RETAIN_ROLLUPS_DAYS") && rollupsDays < checksDays) {
    problem(
      "RETAIN_ROLLUPS_DAYS",
      `must be at least RETAIN_CHECKS_DAYS (${checksDays}): current value is "${rollupsDays}"`,
    );
  }
}
