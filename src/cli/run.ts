/**
 * `monitor run`: migrate, then produce and consume in one process. For local use and small
 * deployments; larger ones run `produce` and `consume` separately.
 *
 * @module
 */
import { loadSites } from "../sites/file.ts";
import type { CliContext } from "./context.ts";
import { withServices } from "./connect.ts";
import { runConsumer } from "./consume.ts";
import { runProducer } from "./produce.ts";
import { watchSites } from "./reload.ts";

/** Runs `monitor run` until the context's signal is aborted. */
export async function runCommand(
  options: { readonly config: string },
  context: CliContext,
): Promise<void> {
  const sites = await loadSites(options.config, context.env);
  await withServices(context, async (services) => {
    // If one half fails, stop the other and report the failure.
    const stop = new AbortController();
    const run = { ...services, signal: AbortSignal.any([services.signal, stop.signal]) };
    const follow = watchSites(options.config, context, services.log);
    const halves = [runProducer({ ...run, sites, once: false, follow }), runConsumer(run)];
    for (const half of halves) half.catch(() => stop.abort());
    for (const outcome of await Promise.allSettled(halves)) {
      if (outcome.status === "rejected") throw outcome.reason;
    }
  }, { migrate: true, failFast: true });
}
