/**
 * A small structured logger: one line per event on a sink the CLI chooses (stderr), as readable
 * text with fields as `key=value`, or as a JSON object per line for log collectors. Modules
 * receive a {@link Logger}; only the CLI decides where lines go and in which format.
 *
 * @module
 */
import { jsonLine, printable } from "./text.ts";

/** How much is written, the most verbose last. */
export type LogLevel = keyof typeof RANK;
/** `text` for people, `json` for log collectors. */
export type LogFormat = "text" | "json";

/** Extra facts of an event. Never put secrets here. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where modules report what happens. */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

const RANK = { error: 0, warn: 1, info: 2, debug: 3 } as const;

/**
 * Creates a logger.
 *
 * @param level The most verbose level written.
 * @param write Receives each formatted line.
 * @param now Wall clock, for the timestamp.
 * @param format `text`: `2026-01-02T03:04:05.678Z INFO message key=value`; `json`:
 *   `{"time":"…","level":"info","message":"…","key":"value"}`.
 * @returns The logger.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger("info", (line) => lines.push(line));
 * log.info("batch written", { rows: 12 });
 * log.debug("not written");
 * assert.equal(lines.length, 1);
 * assert.match(lines[0]!, / INFO batch written rows=12$/);
 * ```
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void,
  now: () => number = Date.now,
  format: LogFormat = "text",
): Logger {
  function at(lineLevel: LogLevel) {
    return (message: string, fields: LogFields = {}) => {
      if (RANK[lineLevel] > RANK[level]) return;
      const time = new Date(now()).toISOString();
      const given = Object.entries(fields).filter(([, value]) => value !== undefined);
      if (format === "json") {
        write(jsonLine({ time, level: lineLevel, message, ...Object.fromEntries(given) }));
        return;
      }
      const extra = given.map(([key, value]) => ` ${key}=${formatValue(value)}`).join("");
      write(`${time} ${lineLevel.toUpperCase()} ${printable(message)}${extra}`);
    };
  }
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}

/** A field's value as text: quoted when it has spaces, `"` or `=`; never a control character. */
function formatValue(value: string | number | boolean | null | undefined): string {
  if (typeof value !== "string") return String(value);
  const shown = printable(value);
  return /[\s"=]/.test(shown) ? JSON.stringify(shown) : shown;
}

/** A logger that drops everything, for tests that do not look at logs. */
export const SILENT: Logger = createLogger("error", () => {});
