/**
 * Every environment variable the monitor reads, in one table: its kind (a zod schema from its text
 * to its value), its default and its meaning. The settings, `monitor settings` and the table of
 * docs/configuration.md all come from {@link SETTINGS}.
 *
 * @module
 */
import { z } from "zod";
import { NO_CONTROL_CHARACTERS, quoted } from "../text.ts";
import { SSL_MODES } from "./database_tls.ts";

/** The rule a setting's text follows; tests derive malformed values from it. */
export type SettingKind =
  | { readonly type: "text"; readonly pattern?: RegExp }
  | { readonly type: "integer"; readonly min: number; readonly max: number }
  | { readonly type: "choice"; readonly values: readonly string[] }
  | { readonly type: "boolean" | "hostPorts" | "networks" | "postgresUri" | "file" };

/**
 * A kind and its schema, from a variable's trimmed, non-empty text to its value. A message of
 * zod's own checks names the rule and is followed by the value (unless it is secret); a kind's
 * own check (`custom`) writes the whole message.
 */
interface Kind<T> {
  readonly kind: SettingKind;
  readonly schema: z.ZodType<T, string>;
}

// `monitor settings` prints every value: an escape sequence would act on the terminal.
const plain = z.string().regex(NO_CONTROL_CHARACTERS, {
  error: "must not contain control characters",
  abort: true,
});

function text(pattern?: { regex: RegExp; rule: string }): Kind<string> {
  if (pattern === undefined) return { kind: { type: "text" }, schema: plain };
  const schema = plain.regex(pattern.regex, `must be ${pattern.rule}`);
  return { kind: { type: "text", pattern: pattern.regex }, schema };
}

/** A decimal integer; without a `max`, Kafka's and timers' int32 bound, named only when exceeded. */
function integer(min: number, max?: number): Kind<number> {
  const most = max ?? 2_147_483_647;
  const rule = `must be an integer ${
    max === undefined ? `of at least ${min}` : `from ${min} to ${max}`
  }`;
  const schema = z.string().regex(/^[+-]?\d+$/, rule).transform(Number)
    .pipe(z.number().min(min, rule).max(most, `must be at most ${most}`));
  return { kind: { type: "integer", min, max: most }, schema };
}

const boolean: Kind<boolean> = {
  kind: { type: "boolean" },
  schema: z.stringbool({
    truthy: ["true", "1"],
    falsy: ["false", "0"],
    error: "must be true or false",
  }),
};

/** One of a few lower-case words, given in any case. */
function choice<const T extends string>(values: readonly [T, ...T[]]): Kind<T> {
  const schema = z.string().toLowerCase().pipe(
    z.enum(values, `must be one of ${values.join(", ")}`),
  );
  return { kind: { type: "choice", values }, schema };
}

function list(text: string): string[] {
  return text.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
}

const HOST_PORT = /^([A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?):(\d{1,5})$/;

const hostPort = z.string().refine((entry) => {
  const port = Number(HOST_PORT.exec(entry)?.[3] ?? 0);
  return port >= 1 && port <= 65_535;
}, {
  // Credentials do not belong here, but if someone wrote them, they are not repeated.
  error: (issue) =>
    `must list host:port pairs: ${quoted(String(issue.input).replace(/^.*@/s, "***@"))} is not one`,
});

const hostPorts: Kind<readonly string[]> = {
  kind: { type: "hostPorts" },
  schema: z.string().transform(list).pipe(
    z.array(hostPort).min(1, "must list at least one host:port pair"),
  ),
};

const network = z.union([z.cidrv4(), z.cidrv6()], {
  error: (issue) =>
    `must list networks such as 10.0.0.0/8 or fe80::/10: ${quoted(String(issue.input))} is not one`,
});

/** CIDR networks, or `none`. */
const networks: Kind<readonly string[]> = {
  kind: { type: "networks" },
  schema: z.string()
    .refine((text) => list(text).length > 0, "must list networks such as 10.0.0.0/8, or none")
    .transform((text) => text.toLowerCase() === "none" ? [] : list(text))
    .pipe(z.array(network)),
};

/** A postgres:// URI that the WHATWG URL parser (as postgres.js) reads, with a valid `sslmode`. */
const postgresUri: Kind<string> = {
  kind: { type: "postgresUri" },
  schema: plain
    .regex(/^postgres(ql)?:\/\//, {
      error: "must be a postgres:// or postgresql:// URI",
      abort: true,
    })
    .pipe(z.url({
      abort: true,
      error:
        'is not a valid URI: check the host and port, and percent-encode "@", ":", "/" and "#" in the user name and password (%40, %3A, %2F, %23)',
    }))
    .superRefine((uri, context) => {
      const mode = new URL(uri).searchParams.get("sslmode");
      if (mode === null || (SSL_MODES as readonly string[]).includes(mode)) return;
      const message = `must be one of ${SSL_MODES.join(", ")}: current value is ${quoted(mode)}`;
      context.addIssue({ code: "custom", path: ["sslmode"], message, input: mode });
    }),
};

/** The path of a PEM file; `setting_files.ts` checks that it can be read. */
const file: Kind<string> = { kind: { type: "file" }, schema: plain };

/** One environment variable, a row of the table of docs/configuration.md. */
export interface Setting<T = unknown> {
  readonly kind: SettingKind;
  /** The text used when it is unset or blank; `""`: none. */
  readonly default: string;
  /** What it means, as the table of docs/configuration.md says it. */
  readonly description: string;
  /** From its trimmed text (undefined: unset or blank) to its value, the default's when undefined. */
  readonly schema: z.ZodType<T, string | undefined>;
}

function setting<T, const D extends string>(
  { kind, schema }: Kind<T>,
  defaultText: D,
  description: string,
): Setting<D extends "" ? T | undefined : T> {
  const orDefault = defaultText === "" ? schema.optional() : schema.prefault(defaultText);
  return { kind, default: defaultText, description, schema: orDefault } as Setting<
    D extends "" ? T | undefined : T
  >;
}

/** Longest a timeout may be: beyond a day it is a typo (and beyond int32, timers fire at once). */
const DAY_MS = 86_400_000;

const topic = text({
  regex: /^[A-Za-z0-9._-]{1,249}$/,
  rule: '1 to 249 letters, digits, ".", "_" or "-"',
});

/**
 * A region's name (`MONITOR_REGION`, `--region`), as results carry it: letters, digits, `.`, `_`
 * and `-`, so that it fits in a consumer group's name, a User-Agent and a terminal.
 */
export const REGION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Every environment variable read, in the order docs/configuration.md lists them. */
export const SETTINGS = {
  KAFKA_BROKERS: setting(
    hostPorts,
    "127.0.0.1:19092",
    "Comma-separated host:port list of Kafka bootstrap brokers",
  ),
  KAFKA_TOPIC: setting(topic, "website-checks", "Topic the check results are published to"),
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
    topic,
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
    boolean,
    "false",
    "`true` to connect with TLS (implied by any KAFKA_SSL_*_FILE)",
  ),
  KAFKA_SSL_CA_FILE: setting(
    file,
    "",
    "CA certificate (PEM) that signed the brokers' certificates, e.g. Aiven's ca.pem",
  ),
  KAFKA_SSL_CERT_FILE: setting(
    file,
    "",
    "Client certificate (PEM) for TLS client authentication, e.g. Aiven's service.cert",
  ),
  KAFKA_SSL_KEY_FILE: setting(file, "", "Client private key (PEM), e.g. Aiven's service.key"),
  KAFKA_SSL_REJECT_UNAUTHORIZED: setting(
    boolean,
    "true",
    "`false` turns broker certificate verification off (never in production)",
  ),
  KAFKA_SASL_MECHANISM: setting(
    choice(["plain", "scram-sha-256", "scram-sha-512"]),
    "",
    "`plain`, `scram-sha-256` or `scram-sha-512` to authenticate with SASL",
  ),
  KAFKA_SASL_USERNAME: setting(text(), "", "SASL user name"),
  KAFKA_SASL_PASSWORD: setting(text(), "", "SASL password"),
  DATABASE_URL: setting(
    postgresUri,
    "postgres://postgres@127.0.0.1:54329/postgres",
    "PostgreSQL connection URI; `?sslmode=require` as Aiven gives it works",
  ),
  DATABASE_CA_FILE: setting(
    file,
    "",
    "CA certificate (PEM) to verify the database server with, e.g. Aiven's ca.pem; without `sslmode`: verify-full. PGSSLROOTCERT works too",
  ),
  PGSSLROOTCERT: setting(
    file,
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
    boolean,
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
    networks,
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
  SERVE_ADDRESS: setting(
    text({ regex: /^[A-Za-z0-9.:_-]{1,253}$/, rule: "a host name or an IP address" }),
    "127.0.0.1",
    "Address `monitor serve` listens on; `0.0.0.0` (or `::`) to be reached from elsewhere",
  ),
  SERVE_PORT: setting(integer(0, 65_535), "8080", "Port of `monitor serve`; 0: any free one"),
  SERVE_API_TOKEN: setting(
    text({ regex: /^[\x21-\x7e]{16,512}$/, rule: "16 to 512 printable ASCII characters" }),
    "",
    "Bearer token that `monitor serve`'s API (`/api/`, `/metrics`) then requires; the pages and badges stay public. Unset: the API is open",
  ),
  SERVE_SITES: setting(
    text({
      regex: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}( *, *[A-Za-z0-9][A-Za-z0-9._-]{0,63})*$/,
      rule: "a comma-separated list of site ids",
    }),
    "",
    "Site ids `monitor serve` shows (pages, badges and API); others are unknown to it. Unset: every site",
  ),
  SERVE_SHOW_URLS: setting(
    boolean,
    "false",
    "`true`: `monitor serve` shows sites' URLs and error messages (they may name hosts and paths you keep private)",
  ),
  METRICS_PORT: setting(
    integer(0, 65_535),
    "",
    "Port for Prometheus metrics (`/metrics`) and health (`/healthz`); also `--metrics-port`. Unset: none",
  ),
  LOG_LEVEL: setting(
    choice(["error", "warn", "info", "debug"]),
    "info",
    "`error`, `warn`, `info` or `debug`",
  ),
  LOG_FORMAT: setting(
    choice(["text", "json"]),
    "text",
    "`text` (readable) or `json` (one object per line); also `--log-format`",
  ),
} as const;

/** The name of an environment variable the monitor reads. */
export type SettingName = keyof typeof SETTINGS;

/** The names, in the order of docs/configuration.md. */
export const SETTING_NAMES = Object.keys(SETTINGS) as readonly SettingName[];

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
