/**
 * `monitor settings`: prints every setting's effective value, as `NAME=value` lines a shell can
 * read, with passwords masked, so a user can see what the monitor will use before it connects.
 *
 * @module
 */
import { redactUri, SETTINGS } from "../config/settings.ts";
import { type CliContext, prepare } from "./context.ts";

/**
 * Runs `monitor settings`.
 *
 * @param context Environment and output.
 * @throws {UsageError} When a setting is invalid (every problem is listed).
 */
export function settingsCommand(context: CliContext): void {
  prepare(context); // the same validation as every other command
  for (const [name, [defaultValue]] of Object.entries(SETTINGS)) {
    const given = context.env[name]?.trim() || undefined;
    const value = given ?? defaultValue;
    const shown = name.endsWith("_PASSWORD") && value !== ""
      ? "***"
      : name.endsWith("_URL")
      ? redactUri(value)
      : value;
    context.writeOut(`${name}=${shown}${given === undefined ? "  # default" : ""}\n`);
  }
}
