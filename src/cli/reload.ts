/**
 * Reloading the sites file while `monitor produce` runs: on SIGHUP and whenever the file changes.
 * A new file that is invalid leaves the running set as it is; the log says why.
 *
 * @module
 */
import { basename, dirname, resolve } from "node:path";
import { ConfigError, formatProblem } from "../errors.ts";
import type { Logger } from "../log.ts";
import { loadSites, type Site } from "../sites/file.ts";

/** Where the sites come from and what asks for a reload. */
export interface ReloadSource {
  /** The sites file. */
  readonly path: string;
  /** For `${NAME}` references. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Dispatches a `hangup` event on SIGHUP. */
  readonly hangups?: EventTarget;
}

/** Editors write a file in several steps; one reload after they settle is enough. */
const SETTLE_MS = 200;

/**
 * Calls `apply` with the new sites each time the file changes or a hangup arrives, until `signal`
 * is aborted.
 *
 * @param source The file and the hangup events.
 * @param apply Receives each valid new set of sites.
 * @param options Logger and the signal that ends the watch.
 * @returns Resolves when the watch has ended.
 */
export async function watchSites(
  source: ReloadSource,
  apply: (sites: readonly Site[]) => void,
  options: { readonly log: Logger; readonly signal: AbortSignal },
): Promise<void> {
  const { log, signal } = options;
  let pending: ReturnType<typeof setTimeout> | undefined;
  let reloading = Promise.resolve();
  const reasons = new Set<string>();

  function request(why: string): void {
    reasons.add(why);
    clearTimeout(pending);
    pending = setTimeout(() => {
      const why = [...reasons].join(", ");
      reasons.clear();
      reloading = reloading.then(() => reload(why));
    }, SETTLE_MS);
  }

  async function reload(why: string): Promise<void> {
    if (signal.aborted) return;
    try {
      const sites = await loadSites(source.path, source.env);
      apply(sites);
      log.info("sites reloaded", { why, sites: sites.length });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      log.error("sites file rejected, still checking the previous sites", {
        why,
        problems: error.problems.length,
      });
      for (const problem of error.problems) log.error(formatProblem(problem));
    }
  }

  const onHangup = () => request("SIGHUP");
  source.hangups?.addEventListener("hangup", onHangup);
  // Watch the directory: editors often replace the file rather than write into it.
  const watcher = Deno.watchFs(dirname(resolve(source.path)), { recursive: false });
  signal.addEventListener("abort", () => watcher.close(), { once: true });
  const name = basename(source.path);
  try {
    for await (const event of watcher) {
      if (event.kind !== "access" && event.paths.some((path) => basename(path) === name)) {
        request("file changed");
      }
    }
  } finally {
    source.hangups?.removeEventListener("hangup", onHangup);
    clearTimeout(pending);
    await reloading;
  }
}
