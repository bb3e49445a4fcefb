/**
 * Every environment variable the monitor reads, with its kind and default, in one table.
 *
 * @module
 */
import { z } from "zod";
import { NO_CONTROL_CHARACTERS, quoted } from "../text.ts";

/** The rule a setting's text follows; tests derive malformed values from it. */
type SettingKind =
  | { readonly type: "text"; readonly pattern?: RegExp }
  | { readonly type: "integer"; readonly min: number; readonly max: number }
  | { readonly type: "choice"; readonly values: readonly string[] }
  | { readonly type: "boolean" | "hostPorts" | "networks" | "postgresUri" | "file" };

/** A kind and its schema of the trimmed text; a custom issue's message is shown alone. */
type Kind<T> = readonly [SettingKind, z.ZodType<T, string>];

// `monitor settings` prints every value: an escape sequence would act on the terminal.
const plain = z.string().regex(NO_CONTROL_CHARACTERS, {
  error: "must not contain control characters",
  abort: true,
});

function text(regex?: RegExp, rule?: string): Kind<string> {
  return [
    { type: "text", ...(regex && { pattern: regex }) },
    regex ? plain.regex(regex, `must be ${rule}`) : plain,
  ];
}

/** Without a `max`: int32, the bound of Kafka's fields and of timers, named only when exceeded. */
function integer(min: number, max?: number): Kind<number> {
  const most = max ?? 2_147_483_647;
  const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
  const rule = `must be an integer ${range}`;
  const schema = z.string().regex(/^[+-]?\d+$/, rule).transform(Number)
    .pipe(z.number().min(min, rule).max(most, `must be at most ${most}`));
  return [{ type: "integer", min, max: most }, schema];
}

const boolean: Kind<boolean> = [
  { type: "boolean" },
  z.stringbool({ truthy: ["true", "1"], falsy: ["false", "0"], error: "must be true or false" }),
];

function choice<const T extends string>(values: readonly [T, ...T[]]): Kind<T> {
  const schema = z.string().toLowerCase().pipe(
    z.enum(values, `must be one of ${values.join(", ")}`),
  );
  return [{ type: "choice", values }, schema];
}

function list(text: string): string[] {
  return text.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
}

const HOST_PORT = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?:(\d{1,5})$/;

const hostPort = z.string().refine((entry) => {
  const port = Number(HOST_PORT.exec(entry)?.[2] ?? 0);
  return port >= 1 && port <= 65_535;
}, {
  // Credentials do not belong here, but if someone wrote them, they are not repeated.
  error: (issue) =>
    `must list host:port pairs: ${quoted(String(issue.input).replace(/^.*@/s, "***@"))} is not one`,
});

const hostPorts: Kind<readonly string[]> = [
  { type: "hostPorts" },
  z.string().transform(list).pipe(
    z.array(hostPort).min(1, "must list at least one host:port pair"),
  ),
];

const network = z.union([z.cidrv4(), z.cidrv6()], {
  error: (issue) =>
    `must list networks such as 10.0.0.0/8 or fe80::/10: ${quoted(String(issue.input))} is not one`,
});

const networks: Kind<readonly string[]> = [
  { type: "networks" },
  z.string()
    .refine((text) => list(text).length > 0, "must list networks such as 10.0.0.0/8, or none")
    .transform((text) => text.toLowerCase() === "none" ? [] : list(text))
    .pipe(z.array(network)),
];

/** PostgreSQL's `sslmode` values, as libpq defines them (`allow` is taken as `prefer`). */
export const SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
] as const;

/** A URI that the WHATWG URL parser (as postgres.js) reads, with a valid `sslmode`. */
const postgresUri: Kind<string> = [
  { type: "postgresUri" },
  plain
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
];

/** The path of a PEM file; `readSettings()` checks that it can be read. */
const file: Kind<string> = [{ type: "file" }, plain];

/** A row: the kind, the text used when unset or blank (`""`: none), the schema of the text. */
function setting<T, const D extends string>([kind, schema]: Kind<T>, defaultText: D) {
  const orDefault = defaultText === "" ? schema.optional() : schema.prefault(defaultText);
  type Value = D extends "" ? T | undefined : T;
  return {
    kind,
    default: defaultText as string,
    schema: orDefault as z.ZodType<Value, string | undefined>,
  };
}

/** Beyond a day a timeout is a typo. */
const DAY_MS = 86_400_000;

const topic = text(/^[A-Za-z0-9._-]{1,249}$/, '1 to 249 letters, digits, ".", "_" or "-"');

/** A region's name, as results carry it: it fits in a consumer group, a User-Agent and a terminal. */
export const REGION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const address = text(/^[A-Za-z0-9.:_-]{1,253}$/, "a host name or an IP address");
const apiToken = text(/^[\x21-\x7e]{16,512}$/, "16 to 512 printable ASCII characters");
const SITE_IDS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}( *, *[A-Za-z0-9][A-Za-z0-9._-]{0,63})*$/;

/** Every environment variable read, in the order docs/configuration.md lists them. */
export const SETTINGS = {
  KAFKA_BROKERS: setting(hostPorts, "127.0.0.1:19092"),
  KAFKA_TOPIC: setting(topic, "website-checks"),
  KAFKA_TOPIC_PARTITIONS: setting(integer(1), "6"),
  KAFKA_TOPIC_REPLICATION_FACTOR: setting(integer(-1, 32_767), "-1"),
  KAFKA_SITES_TOPIC: setting(topic, "website-sites"),
  KAFKA_SITES_PARTITIONS: setting(integer(1), "12"),
  KAFKA_CLIENT_ID: setting(text(), "website-monitor"),
  KAFKA_GROUP_ID: setting(text(), "website-monitor-db-writer"),
  KAFKA_ALERT_GROUP_ID: setting(text(), "website-monitor-alerter"),
  KAFKA_SESSION_TIMEOUT_MS: setting(integer(6_000, DAY_MS), "30000"),
  KAFKA_SSL: setting(boolean, "false"),
  KAFKA_SSL_CA_FILE: setting(file, ""),
  KAFKA_SSL_CERT_FILE: setting(file, ""),
  KAFKA_SSL_KEY_FILE: setting(file, ""),
  KAFKA_SSL_REJECT_UNAUTHORIZED: setting(boolean, "true"),
  KAFKA_SASL_MECHANISM: setting(choice(["plain", "scram-sha-256", "scram-sha-512"]), ""),
  KAFKA_SASL_USERNAME: setting(text(), ""),
  KAFKA_SASL_PASSWORD: setting(text(), ""),
  DATABASE_URL: setting(postgresUri, "postgres://postgres@127.0.0.1:54329/postgres"),
  DATABASE_CA_FILE: setting(file, ""),
  PGSSLROOTCERT: setting(file, ""),
  DATABASE_SCHEMA: setting(text(/^[a-z_][a-z0-9_]{0,62}$/, "a lower-case SQL identifier"), ""),
  DATABASE_WRITE_TIMEOUT_MS: setting(integer(100, DAY_MS), "30000"),
  DATABASE_PARTITIONS_AHEAD_DAYS: setting(integer(1, 366), "7"),
  // Today's and yesterday's partitions are being written to: at least 2.
  RETAIN_CHECKS_DAYS: setting(integer(2), "30"),
  RETAIN_ROLLUPS_DAYS: setting(integer(2), "400"),
  CONSUME_BATCH_BYTES: setting(integer(1024), "1048576"),
  CONSUME_LINGER_MS: setting(integer(0, DAY_MS), "100"),
  CONSUME_PRUNE: setting(boolean, "false"),
  CHECK_CONCURRENCY: setting(integer(1), "200"),
  CHECK_BODY_MEMORY_BYTES: setting(integer(1_048_576), ""),
  MONITOR_REGION: setting(
    text(REGION_PATTERN, 'a letter or digit, then up to 62 letters, digits, ".", "_" or "-"'),
    "default",
  ),
  CHECK_DENY_NETWORKS: setting(
    networks,
    "169.254.0.0/16,fe80::/10,fd00:ec2::254/128,100.100.100.200/32",
  ),
  PRODUCE_BUFFER_MESSAGES: setting(integer(1), "100000"),
  SHUTDOWN_TIMEOUT_MS: setting(integer(0, DAY_MS), "8000"),
  SERVE_ADDRESS: setting(address, "127.0.0.1"),
  SERVE_PORT: setting(integer(0, 65_535), "8080"),
  SERVE_API_TOKEN: setting(apiToken, ""),
  SERVE_SITES: setting(text(SITE_IDS, "a comma-separated list of site ids"), ""),
  SERVE_SHOW_URLS: setting(boolean, "false"),
  METRICS_PORT: setting(integer(0, 65_535), ""),
  LOG_LEVEL: setting(choice(["error", "warn", "info", "debug"]), "info"),
  LOG_FORMAT: setting(choice(["text", "json"]), "text"),
} as const;

/** The name of an environment variable the monitor reads. */
export type SettingName = keyof typeof SETTINGS;

/** The names, in the order of docs/configuration.md. */
export const SETTING_NAMES = Object.keys(SETTINGS) as readonly SettingName[];
