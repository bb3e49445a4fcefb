/**
 * `monitor run`: migrate, then produce and consume in one process. For local use and small
 * deployments; larger ones run `produce` and `consume` separately.
 *
 * @module
 */
import { loadSites } from "../sites/file.ts";
import { loadMigrations, migrate } from "../db/migrate.ts";
import { type CliContext, prepare } from "./context.ts";
import { openDatabase, openKafka } from "./connect.ts";
import { runConsumer } from "./consume.ts";
import { observe } from "./observe.ts";
import { runProducer } from "./produce.ts";
import { watchSites } from "./reload.ts";

/** Runs `monitor run` until the context's signal is aborted. */
export async function runCommand(
  options: { readonly config: string },
  context: CliContext,
): Promise<void> {
  const sites = await loadSites(options.config, context.env);
  const { settings, log } = prepare(context);
  const sql = await openDatabase(settings);
  try {
    await migrate(sql, await loadMigrations(), { log, schema: settings.database.schema });
    const kafka = await openKafka(settings, log);
    const { metrics, reached, close } = observe(settings, ["kafka", "database"], log);
    reached({ kafka, sql });
    // If one half fails, stop the other and report the failure.
    const stop = new AbortController();
    const signal = AbortSignal.any([context.signal, stop.signal]);
    const halves = [
      runProducer({
        sites,
        settings,
        kafka,
        log,
        metrics,
        signal,
        once: false,
        follow: watchSites(options.config, context, log),
      }),
      runConsumer({ settings, kafka, sql, log, metrics, signal }),
    ].map((half) =>
      half.catch((error) => {
        stop.abort();
        throw error;
      })
    );
    const [produced, consumed] = await Promise.allSettled(halves);
    await close();
    for (const outcome of [produced, consumed]) {
      if (outcome?.status === "rejected") throw outcome.reason;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
