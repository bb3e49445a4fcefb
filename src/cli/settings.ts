/**
 * `monitor settings`: every setting's effective value as `NAME=value` lines a shell can read,
 * secrets masked, to see what the monitor will use before it connects.
 *
 * @module
 */
import { showSettings } from "../config/settings.ts";
import { type CliContext, prepare } from "./context.ts";

/** Runs `monitor settings`; a SettingsError lists every invalid setting. */
export function settingsCommand(context: CliContext): void {
  prepare(context); // the same validation as every other command, files included
  for (const { name, shown, isDefault } of showSettings(context.env)) {
    context.writeOut(`${name}=${shown}${isDefault ? "  # default" : ""}\n`);
  }
}
