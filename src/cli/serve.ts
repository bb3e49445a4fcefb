/**
 * `monitor serve`: the status page, badges and JSON API over what PostgreSQL holds. Read-only: it
 * never migrates, and refuses a database whose schema is not migrated.
 *
 * @module
 */
import { pingDatabase, type Sql } from "../db/client.ts";
import { requireMigrated } from "../db/migrate.ts";
import { createMetrics } from "../metrics.ts";
import { serveHandler } from "../serve/app.ts";
import { databaseReads, type ServeReads } from "../serve/source.ts";
import { type CliContext, prepare, whenAborted } from "./context.ts";
import { openDatabase, openWhenAvailable } from "./connect.ts";

const PROBE_TIMEOUT_MS = 3_000;
/** No anonymous request may keep a connection busy longer (the pool has 4). */
const STATEMENT_TIMEOUT_MS = 5_000;

/**
 * Runs `monitor serve` until the context's signal is aborted. It listens at once: until the
 * database is reached, `/healthz` says why not, `/metrics` answers and every read is 503.
 *
 * @throws {ServiceError} When PostgreSQL refuses for good or the schema is not migrated.
 */
export async function serveCommand(context: CliContext): Promise<void> {
  const { settings, log } = prepare(context);
  const { signal } = context;
  const { address, port, sites, showUrls, apiToken } = settings.serve;
  let unreachable = "not connected yet";
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
    health: () =>
      reads === undefined || sql === undefined
        ? Promise.resolve({ database: `unreachable: ${unreachable}` })
        : probe(sql),
    log,
  });
  const server = Deno.serve({ hostname: address, port, onListen: () => {} }, handler);
  const listening = server.addr as Deno.NetAddr;
  log.info("serving", {
    url: `http://${
      listening.hostname.includes(":") ? `[${listening.hostname}]` : listening.hostname
    }:${listening.port}/`,
    sites: sites === null ? "all" : sites.length,
    api: apiToken === null ? "open" : "token required",
  });
  try {
    sql = await openWhenAvailable(
      () => openDatabase(settings, { statementTimeoutMs: STATEMENT_TIMEOUT_MS }),
      { log, signal, onUnreachable: (reason) => unreachable = reason },
    );
    if (sql === undefined) return;
    await requireMigrated(sql);
    reads = databaseReads(sql, sites);
    log.info("database reached");
    await whenAborted(signal);
  } finally {
    await server.shutdown();
    await sql?.end({ timeout: 5 });
  }
  log.info("stopped serving");
}

/** The database's state for `/healthz`. */
async function probe(sql: Sql): Promise<Record<string, string>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      pingDatabase(sql),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer within 3 s")), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { database: "ok" };
  } catch (error) {
    return { database: `unreachable: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
