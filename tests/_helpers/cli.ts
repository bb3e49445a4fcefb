/**
 * Runs `monitor` as a user would from the shell, capturing its output: in-process, or as a
 * process of its own where signals and crashes are the point.
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

const MOD = new URL("../../mod.ts", import.meta.url).pathname;

/** A `monitor` process of its own. */
export interface MonitorProcess {
  /** Everything it logged (stderr) so far. */
  readonly log: () => string;
  /**
   * Sends `signal` unless it has already ended, and waits for it to end.
   *
   * @returns Its exit code, and how long it took to exit.
   */
  stop(signal?: Deno.Signal): Promise<{ code: number; ms: number }>;
}

/**
 * Starts `monitor args…` as a process, keeping its log.
 *
 * @param args Arguments after the program name.
 * @param env Its environment, added to this process's unless `clearEnv`.
 */
export function spawnMonitor(
  args: readonly string[],
  env: Record<string, string>,
  options: { readonly clearEnv?: boolean } = {},
): MonitorProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MOD, ...args],
    env,
    clearEnv: options.clearEnv ?? false,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const reading = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (log += text) }),
  );
  return {
    log: () => log,
    async stop(signal: Deno.Signal = "SIGTERM") {
      const started = performance.now();
      try {
        child.kill(signal);
      } catch {
        // it has already ended; its status and log tell why
      }
      const { code } = await child.status;
      await reading;
      return { code, ms: performance.now() - started };
    },
  };
}

/** The URL from the JSON log line `monitor serve` writes once it listens; undefined before. */
export function servingUrl(log: string): URL | undefined {
  const line = log.split("\n").find((l) => l.includes('"message":"serving"'));
  return line === undefined ? undefined : new URL(JSON.parse(line).url);
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
