/**
 * Text that comes from outside (a server's error message, a message on the topic, the sites file)
 * and goes where control characters do harm: into PostgreSQL, which cannot store a NUL, and onto
 * a terminal, which acts on escape sequences. One definition of each, for the schemas that refuse
 * such text and for the places that clean it.
 *
 * @module
 */

/** Text without a NUL character (PostgreSQL cannot store one). */
// deno-lint-ignore no-control-regex -- matching NUL is the point
export const NO_NUL = /^[^\u0000]*$/;

/** Text without C0 control characters or DEL. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
export const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]*$/;

// C0, DEL, C1, and Unicode's bidirectional embeddings, overrides and isolates (which reorder what
// follows them on screen: a certificate name could pose as another).
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text made safe to print and store: control characters (C0, DEL and C1, among them NUL and the
 * escape that starts a terminal's sequences) and bidirectional overrides become U+FFFD.
 *
 * @param text Text from outside.
 * @returns The text without control characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printable } from "./text.ts";
 * assert.equal(printable("Shop\u001b[2J"), "Shop\uFFFD[2J");
 * assert.equal(printable("CN=evil\u202Egro.elpmaxe"), "CN=evil\uFFFDgro.elpmaxe");
 * ```
 */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARACTER, "\uFFFD");
}

// Characters JSON.stringify leaves raw that a terminal or a JavaScript parser of old may act on.
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * A value as one line of JSON that a terminal cannot act on: JSON escapes C0 characters but not
 * DEL or C1 (U+009B starts a terminal sequence too), so those are escaped here, losslessly.
 *
 * @param value What to print.
 * @returns Its JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonLine } from "./text.ts";
 * assert.equal(jsonLine({ name: "a\u009b2J" }), '{"name":"a\\u009b2J"}');
 * ```
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    RAW_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
