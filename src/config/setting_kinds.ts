/**
 * What the text of one environment variable may be, and the zod schema that turns it into a value.
 * Each kind writes its own messages, so that it alone decides whether the value may be shown:
 * never for a secret, never for a URI that may hold a password.
 *
 * @module
 */
import { isIP } from "node:net";
import { z } from "zod";
import { jsonLine, NO_CONTROL_CHARACTERS } from "../text.ts";

/** The rule a setting's text follows; tests derive malformed values from it. */
export type SettingKind =
  | {
    readonly type: "text";
    /** A stricter rule than "no control characters", and how a message states it. */
    readonly pattern?: { readonly regex: RegExp; readonly rule: string };
  }
  | { readonly type: "secret" }
  | { readonly type: "integer"; readonly min: number; readonly max: number }
  | { readonly type: "boolean" }
  | { readonly type: "choice"; readonly values: readonly string[] }
  | { readonly type: "hostPorts" }
  | { readonly type: "networks" }
  | { readonly type: "postgresUri" }
  | { readonly type: "file" };

/** A kind and its schema, from a variable's trimmed, non-empty text to the value. */
export interface ValueKind<T> {
  readonly kind: SettingKind;
  readonly schema: z.ZodType<T, string>;
}

/** The largest integer a setting takes unless it says otherwise: Kafka's and timers' int32. */
export const INT32_MAX = 2_147_483_647;

/** PostgreSQL's `sslmode` values, as libpq defines them (`allow` is taken as `prefer`). */
export const SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
] as const;

const HOST_PORT = /^([A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?):(\d{1,5})$/;
const DECIMAL = /^[+-]?\d+$/;
/** Long values are cut in messages: a whole certificate pasted by mistake helps nobody. */
const MAX_SHOWN_CHARS = 100;

/**
 * A value quoted for a message: JSON escapes (no raw control characters, bidirectional ones
 * included, reach a terminal), and cut short when long.
 *
 * @param text The value.
 * @returns The quoted value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quote } from "./setting_kinds.ts";
 * assert.equal(quote("a\u001bb"), '"a\\u001bb"');
 * assert.equal(quote("a\u202eb"), '"a\\u202eb"');
 * ```
 */
export function quote(text: string): string {
  if (text.length <= MAX_SHOWN_CHARS) return jsonLine(text);
  return `${jsonLine(text.slice(0, MAX_SHOWN_CHARS)).slice(0, -1)}…" (${text.length} characters)`;
}

/** Adds a problem; the value stays, to be checked further (all problems are listed at once). */
function report(context: z.core.ParsePayload<string>, message: string, path: string[] = []): void {
  context.issues.push({ code: "custom", input: context.value, message, path });
}

/** Adds a problem and gives up on the value. */
function fail(context: z.core.ParsePayload<string>, message: string): never {
  report(context, message);
  return z.NEVER;
}

function parsed<T>(parse: (text: string, context: z.core.ParsePayload<string>) => T): z.ZodType<
  T,
  string
> {
  return z.string().transform((text, context) => parse(text, context));
}

/**
 * Free text without control characters, optionally narrower.
 *
 * @param pattern The narrower rule, e.g. Kafka's topic names.
 * @returns The kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { text } from "./setting_kinds.ts";
 * const topic = text({ regex: /^[a-z-]+$/, rule: "lower-case letters or -" });
 * assert.equal(topic.schema.parse("checks"), "checks");
 * assert.equal(
 *   topic.schema.safeParse("my topic").error?.issues[0]?.message,
 *   'must be lower-case letters or -: current value is "my topic"',
 * );
 * ```
 */
export function text(pattern?: { regex: RegExp; rule: string }): ValueKind<string> {
  return {
    kind: pattern === undefined ? { type: "text" } : { type: "text", pattern },
    schema: parsed((value, context) => {
      if (!NO_CONTROL_CHARACTERS.test(value)) {
        return fail(
          context,
          `must not contain control characters: current value is ${quote(value)}`,
        );
      }
      if (pattern !== undefined && !pattern.regex.test(value)) {
        return fail(context, `must be ${pattern.rule}: current value is ${quote(value)}`);
      }
      return value;
    }),
  };
}

/**
 * A password: checked like text, never shown.
 *
 * @returns The kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secret } from "./setting_kinds.ts";
 * const message = secret().schema.safeParse("s3cr3t\u0000").error?.issues[0]?.message ?? "";
 * assert.ok(!message.includes("s3cr3t"));
 * ```
 */
export function secret(): ValueKind<string> {
  return {
    kind: { type: "secret" },
    schema: parsed((value, context) =>
      NO_CONTROL_CHARACTERS.test(value) ? value : fail(
        context,
        "must not contain control characters (the value is not shown: it is secret)",
      )
    ),
  };
}

/**
 * A decimal integer in a range.
 *
 * @param min The least value.
 * @param max The greatest; when left out, {@link INT32_MAX} and not mentioned unless exceeded.
 * @returns The kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { integer } from "./setting_kinds.ts";
 * const port = integer(0, 65_535);
 * assert.equal(port.schema.parse("9100"), 9100);
 * assert.equal(
 *   port.schema.safeParse("1e3").error?.issues[0]?.message,
 *   'must be an integer from 0 to 65535: current value is "1e3"',
 * );
 * ```
 */
export function integer(min: number, max?: number): ValueKind<number> {
  const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
  const most = max ?? INT32_MAX;
  return {
    kind: { type: "integer", min, max: most },
    schema: parsed((value, context) => {
      const number = DECIMAL.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(number) || number < min) {
        return fail(context, `must be an integer ${range}: current value is ${quote(value)}`);
      }
      if (number > most) {
        return fail(context, `must be at most ${most}: current value is ${quote(value)}`);
      }
      return number;
    }),
  };
}

/**
 * `true`/`false` (or `1`/`0`), in any case.
 *
 * @returns The kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boolean } from "./setting_kinds.ts";
 * assert.equal(boolean().schema.parse("TRUE"), true);
 * assert.equal(boolean().schema.safeParse("yes").success, false);
 * ```
 */
export function boolean(): ValueKind<boolean> {
  return {
    kind: { type: "boolean" },
    schema: parsed((value, context) => {
      const lower = value.toLowerCase();
      if (lower === "true" || lower === "1") return true;
      if (lower === "false" || lower === "0") return false;
      return fail(context, `must be true or false: current value is ${quote(value)}`);
    }),
  };
}

/**
 * One of a few words, in any case.
 *
 * @param values The words, lower case.
 * @returns The kind; its value is the word in lower case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { choice } from "./setting_kinds.ts";
 * assert.equal(choice(["text", "json"]).schema.parse("JSON"), "json");
 * ```
 */
export function choice<const T extends string>(values: readonly T[]): ValueKind<T> {
  return {
    kind: { type: "choice", values },
    schema: parsed((value, context) => {
      const lower = value.toLowerCase();
      return (values as readonly string[]).includes(lower)
        ? lower as T
        : fail(context, `must be one of ${values.join(", ")}: current value is ${quote(value)}`);
    }),
  };
}

/**
 * A comma-separated list of `host:port`, at least one; blank entries are ignored.
 *
 * @returns The kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostPorts } from "./setting_kinds.ts";
 * assert.deepEqual(hostPorts().schema.parse("a.example:9092, b.example:9092,"), [
 *   "a.example:9092",
 *   "b.example:9092",
 * ]);
 * assert.equal(
 *   hostPorts().schema.safeParse("u:pw@a.example:9092").error?.issues[0]?.message,
 *   'must list host:port pairs: "***@a.example:9092" is not one',
 * );
 * ```
 */
export function hostPorts(): ValueKind<readonly string[]> {
  return {
    kind: { type: "hostPorts" },
    schema: parsed((value, context) => {
      const entries = value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
      if (entries.length === 0) return fail(context, "must list at least one host:port pair");
      for (const entry of entries) {
        const port = Number(HOST_PORT.exec(entry)?.[3] ?? 0);
        if (port < 1 || port > 65_535) {
          // Credentials do not belong here, but if someone wrote them, they are not repeated.
          const shown = quote(entry.replace(/^.*@/s, "***@"));
          report(context, `must list host:port pairs: ${shown} is not one`);
        }
      }
      return entries;
    }),
  };
}

/**
 * A comma-separated list of IP networks in CIDR notation (`169.254.0.0/16,fe80::/10`), or `none`
 * for no network at all.
 *
 * @returns The kind; its value is the list, each network as written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { networks } from "./setting_kinds.ts";
 * assert.deepEqual(networks().schema.parse("10.0.0.0/8, fd00::/8"), ["10.0.0.0/8", "fd00::/8"]);
 * assert.deepEqual(networks().schema.parse("none"), []);
 * ```
 */
export function networks(): ValueKind<readonly string[]> {
  return {
    kind: { type: "networks" },
    schema: parsed((value, context) => {
      if (value.toLowerCase() === "none") return [];
      const entries = value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
      if (entries.length === 0) return fail(context, "must list networks such as 10.0.0.0/8");
      for (const entry of entries) {
        const [address = "", prefix = "", ...rest] = entry.split("/");
        const family = isIP(address);
        const bits = family === 4 ? 32 : 128;
        if (family === 0 || rest.length > 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) {
          report(
            context,
            `must list networks such as 10.0.0.0/8 or fe80::/10: ${quote(entry)} is not one`,
          );
        }
      }
      return entries;
    }),
  };
}

/**
 * A `postgres://` or `postgresql://` URI that the WHATWG URL parser accepts, with a valid
 * `sslmode`. The URI is never quoted: when it is malformed, no one can say where its password ends.
 *
 * @returns The kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { postgresUri } from "./setting_kinds.ts";
 * const [issue] = postgresUri().schema.safeParse("postgres://u:pw@[::1:5432/db").error?.issues ?? [];
 * assert.match(issue?.message ?? "", /^is not a valid URI/);
 * assert.ok(!issue?.message.includes("pw"));
 * ```
 */
export function postgresUri(): ValueKind<string> {
  return {
    kind: { type: "postgresUri" },
    schema: parsed((value, context) => {
      if (!/^postgres(ql)?:\/\//.test(value)) {
        return fail(context, "must be a postgres:// or postgresql:// URI");
      }
      // `monitor settings` prints it: an escape sequence would act on the terminal.
      if (!NO_CONTROL_CHARACTERS.test(value)) {
        return fail(
          context,
          "must not contain control characters (the value is not shown: it may hold a password)",
        );
      }
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return fail(
          context,
          'is not a valid URI (not shown: it may hold a password): check the host and port, and percent-encode "@", ":", "/" and "#" in the user name and password (%40, %3A, %2F, %23)',
        );
      }
      const mode = url.searchParams.get("sslmode");
      if (mode !== null && !(SSL_MODES as readonly string[]).includes(mode)) {
        const modes = SSL_MODES.join(", ");
        report(context, `must be one of ${modes}: current value is ${quote(mode)}`, ["sslmode"]);
      }
      return value;
    }),
  };
}

/**
 * The path of a file (a PEM certificate or key); whether it can be read is checked separately,
 * by `setting_files.ts`.
 *
 * @returns The kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { file } from "./setting_kinds.ts";
 * assert.equal(file().schema.parse("ca.pem"), "ca.pem");
 * ```
 */
export function file(): ValueKind<string> {
  return { kind: { type: "file" }, schema: text().schema };
}
