/**
 * A small structured logger: one line per event on a sink the CLI chooses (stderr), with fields
 * as `key=value`. Modules receive a {@link Logger}; only the CLI decides where lines go.
 *
 * @module
 */
import type { LogLevel } from "./config/settings.ts";

/** Extra facts of an event. Never put secrets here. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where modules report what happens. */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * Creates a logger.
 *
 * @param level The most verbose level written.
 * @param write Receives each formatted line.
 * @param now Wall clock, for the timestamp.
 * @returns The logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const log = createLogger("info", (line) => console.error(line));
 * log.info("batch written", { rows: 12 });
 * ```
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void,
  now: () => number = Date.now,
): Logger {
  function at(lineLevel: LogLevel) {
    return (message: string, fields: LogFields = {}) => {
      if (RANK[lineLevel] > RANK[level]) return;
      const extra = Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => ` ${key}=${formatValue(value)}`)
        .join("");
      write(`${new Date(now()).toISOString()} ${lineLevel.toUpperCase()} ${message}${extra}`);
    };
  }
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}

function formatValue(value: string | number | boolean | null | undefined): string {
  return typeof value === "string" && /[\s"=]/.test(value) ? JSON.stringify(value) : String(value);
}

/** A logger that drops everything, for tests that do not look at logs. */
export const SILENT: Logger = createLogger("error", () => {});
