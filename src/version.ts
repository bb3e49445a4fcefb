/**
 * The monitor's version, read from `deno.json` (its one source) when the program is built: a JSON
 * import is part of the module graph, so `deno compile` and `deno install` carry it.
 *
 * @module
 */
import config from "../deno.json" with { type: "json" };

/**
 * The version of this `monitor`, as `deno.json` gives it: printed by `monitor --version` and sent
 * in the User-Agent of each check.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VERSION } from "./version.ts";
 * assert.match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = config.version;
