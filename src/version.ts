/**
 * The monitor's version, from `deno.json`, imported so that compiled and installed copies carry it.
 *
 * @module
 */
import config from "../deno.json" with { type: "json" };

/** Printed by `monitor --version` and sent in the User-Agent of each check. */
export const VERSION: string = config.version;
