/**
 * The monitor's version, from `deno.json`: a JSON import is part of the module graph, so
 * `deno compile` and `deno install` carry it.
 *
 * @module
 */
import config from "../deno.json" with { type: "json" };

/** Printed by `monitor --version` and sent in the User-Agent of each check. */
export const VERSION: string = config.version;
