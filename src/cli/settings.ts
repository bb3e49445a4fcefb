/**
 * `monitor settings`: each effective setting as a `NAME=value` line for a shell, secrets masked.
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
