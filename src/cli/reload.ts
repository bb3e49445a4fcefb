/**
 * Reloading the sites file while `monitor produce` runs: on SIGHUP and whenever the file changes.
 * A new file that is invalid leaves the running set as it is; the log says why.
 *
 * @module
 */
import { basename, dirname, resolve } from "node:path";
import { ConfigError, formatProblem } from "../errors.ts";
import type { Logger } from "../log.ts";
import { loadSites } from "../sites/file.ts";
import type { SitesFeed } from "../sites/checker_sites.ts";
import type { CliContext } from "./context.ts";

/** Editors write a file in several steps; one reload after they settle is enough. */
const SETTLE_MS = 200;

/** The sites file as a feed: each valid new set, on a change of the file or a hangup. */
export function watchSites(
  path: string,
  { env, hangups }: Pick<CliContext, "env" | "hangups">,
  log: Logger,
): SitesFeed {
  return async (apply, signal) => {
    // The watcher is closed on abort: a stop that came before it was made has nothing to close.
    if (signal.aborted) return;
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
        const sites = await loadSites(path, env);
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
    hangups?.addEventListener("hangup", onHangup);
    // Watch the directory: editors often replace the file rather than write into it.
    const watcher = Deno.watchFs(dirname(resolve(path)), { recursive: false });
    signal.addEventListener("abort", () => watcher.close(), { once: true });
    const name = basename(path);
    try {
      for await (const event of watcher) {
        if (event.kind !== "access" && event.paths.some((path) => basename(path) === name)) {
          request("file changed");
        }
      }
    } finally {
      hangups?.removeEventListener("hangup", onHangup);
      clearTimeout(pending);
      await reloading;
    }
  };
}
