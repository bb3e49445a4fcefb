/**
 * A small structured logger: one line per event, as text with `key=value` fields or as JSON for
 * log collectors. Modules receive a {@link Logger}; only the CLI decides where lines go.
 *
 * @module
 */
import { jsonLine, printable } from "./text.ts";

const RANK = { error: 0, warn: 1, info: 2, debug: 3 } as const;

type LogLevel = keyof typeof RANK;

/** Extra facts of an event. Never put secrets here. */
type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where modules report what happens. */
export type Logger = Readonly<Record<LogLevel, (message: string, fields?: LogFields) => void>>;

/**
 * Creates a logger writing lines of `level` and less verbose ones; a `text` line reads
 * `2026-01-02T03:04:05.678Z INFO message key=value`, a `json` one has the same keys.
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void,
  now: () => number = Date.now,
  format: "text" | "json" = "text",
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
