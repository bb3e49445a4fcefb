/**
 * `monitor`: watches websites and keeps an honest record of their availability.
 *
 * ```sh
 * monitor produce --config sites.yaml   # check sites, publish results to Kafka
 * monitor consume                       # store results from Kafka in PostgreSQL
 * monitor migrate                       # create or update the database schema
 * monitor run --config sites.yaml       # all three in one process
 * ```
 *
 * @module
 */
import { runMonitor } from "./src/cli/main.ts";

/** Runs `monitor` on `args` with real signals and streams, and returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const stop = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let received = 0;
  const onSignal = () => {
    // A second signal means "now": the user does not want to wait for a clean shutdown.
    if (++received > 1) Deno.exit(130);
    stop.abort();
  };
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const hangups = new EventTarget();
  const onHangup = () => hangups.dispatchEvent(new Event("hangup"));
  Deno.addSignalListener("SIGHUP", onHangup);
  try {
    return await runMonitor(args, {
      env: Deno.env.toObject(),
      signal: stop.signal,
      hangups,
      writeOut: (text) => writeAll(Deno.stdout, text),
      writeErr: (text) => writeAll(Deno.stderr, text),
    });
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    Deno.removeSignalListener("SIGHUP", onHangup);
  }
}

function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
