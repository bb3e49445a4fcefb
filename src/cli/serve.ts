/**
 * `monitor serve`: the status page, badges and JSON API over what PostgreSQL holds. Read-only: it
 * never migrates, and refuses a database whose schema is not migrated.
 *
 * @module
 */
import type { Sql } from "../db/client.ts";
import { requireMigrated } from "../db/migrate.ts";
import { createMetrics } from "../metrics.ts";
import { serveHandler } from "../serve/app.ts";
import { databaseReads, type ServeReads } from "../db/reads.ts";
import { type CliContext, prepare, whenAborted } from "./context.ts";
import { openDatabase, openService, serviceHealth } from "./connect.ts";

/** No anonymous request may keep a connection busy longer (the pool has 4). */
const STATEMENT_TIMEOUT_MS = 5_000;

/**
 * Runs `monitor serve` until the context's signal is aborted. It listens at once: until the
 * database is reached, `/healthz` says why not, `/metrics` answers and every read is 503.
 */
export async function serveCommand(context: CliContext): Promise<void> {
  const { settings, log } = prepare(context);
  const { signal } = context;
  const { address, port, sites, showUrls, apiToken } = settings.serve;
  const health = serviceHealth(["database"]);
  let sql: Sql | undefined;
  let reads: ServeReads | undefined;
  const handler = serveHandler({
    get reads() {
      return reads;
    },
    now: () => new Date(),
    showUrls,
    apiToken,
    metrics: createMetrics(),
    health: health.report,
    log,
  });
  const server = Deno.serve({ hostname: address, port, onListen: () => {} }, handler);
  const { hostname, port: listening } = server.addr as Deno.NetAddr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  log.info("serving", {
    url: `http://${host}:${listening}/`,
    sites: sites === null ? "all" : sites.length,
    api: apiToken === null ? "open" : "token required",
  });
  try {
    const open = () => openDatabase(settings, { statementTimeoutMs: STATEMENT_TIMEOUT_MS });
    sql = await openService("database", open, { log, signal, health });
    if (sql === undefined) return;
    await requireMigrated(sql);
    reads = databaseReads(sql, sites);
    health.reached({ sql });
    log.info("database reached");
    await whenAborted(signal);
  } finally {
    await server.shutdown();
    await sql?.end({ timeout: 5 });
  }
  log.info("stopped serving");
}
