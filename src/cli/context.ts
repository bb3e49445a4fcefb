/**
 * What a command receives from `main`; tests build their own.
 *
 * @module
 */
import { insecureSettings, readSettings, type Settings } from "../config/settings.ts";
import { readSmallFile } from "../config/text_file.ts";
import { createLogger, type Logger } from "../log.ts";

/** The outside world of a command. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on SIGINT/SIGTERM: long-running commands then shut down cleanly. */
  readonly signal: AbortSignal;
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
  /** Dispatches a `hangup` event on SIGHUP: `produce` and `run` then reload the sites file. */
  readonly hangups?: EventTarget;
}

/** How often long-running commands log a summary line. */
export const SUMMARY_INTERVAL_MS = 60_000;

/** Settings and logger for a command, built once; a SettingsError lists every invalid setting. */
export function prepare(context: CliContext): { settings: Settings; log: Logger } {
  const settings = readSettings(context.env, { readFile: readSmallFile });
  const write = (line: string) => context.writeErr(`${line}\n`);
  const log = createLogger(settings.logLevel, write, Date.now, settings.logFormat);
  for (const warning of insecureSettings(settings)) log.warn(warning);
  return { settings, log };
}

/** Resolves when the signal is aborted. */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}
