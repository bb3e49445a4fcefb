/**
 * Runs `monitor` in-process, as a user would from the shell, capturing its output.
 *
 * @module
 */
import { runMonitor } from "../../src/cli/main.ts";

/** A finished or running invocation. */
export interface Invocation {
  /** Resolves with the exit code. */
  readonly code: Promise<number>;
  /** Everything written to stdout and stderr so far. */
  readonly out: () => string;
  readonly err: () => string;
  /** Sends the equivalent of Ctrl-C. */
  stop(): void;
}

/**
 * Starts `monitor args…` with `env` as its whole environment.
 *
 * @param args Arguments after the program name.
 * @param env The environment.
 * @param hangups Where the test dispatches `hangup` events (SIGHUP).
 */
export function monitor(
  args: readonly string[],
  env: Record<string, string> = {},
  hangups?: EventTarget,
): Invocation {
  const controller = new AbortController();
  let out = "";
  let err = "";
  const code = runMonitor(args, {
    env,
    signal: controller.signal,
    writeOut: (text) => out += text,
    writeErr: (text) => err += text,
    ...(hangups === undefined ? {} : { hangups }),
  });
  return { code, out: () => out, err: () => err, stop: () => controller.abort() };
}

/** The port from the JSON log line that announces the metrics endpoint. */
export function servedPort(log: string): number {
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line);
    if (entry.message === "metrics and health served") return entry.port;
  }
  throw new Error(`No "metrics and health served" line in the log:\n${log}`);
}
