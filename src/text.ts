/**
 * Text that comes from outside (a server's error message, a message on the topic, the sites file)
 * and goes where control characters do harm: into PostgreSQL, which cannot store a NUL, and onto
 * a terminal, which acts on escape sequences. One definition of each, for the schemas that refuse
 * such text and for the places that clean it.
 *
 * The control characters are Unicode's: C0, DEL and C1 (`\p{Cc}`), and the bidirectional controls
 * (`\p{Bidi_Control}`: embeddings, overrides, isolates and marks, U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069), which reorder what follows them on screen, so that a name or a
 * URL can pose as another. They are written out as ranges: JSON Schema readers take the patterns
 * without the `u` flag that `\p{…}` needs.
 *
 * @module
 */

/** Text without a NUL character (PostgreSQL cannot store one). */
// deno-lint-ignore no-control-regex -- matching NUL is the point
export const NO_NUL = /^[^\u0000]*$/;

/** Text without control characters: C0, DEL, C1, or bidirectional controls. */
export const NO_CONTROL_CHARACTERS =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$/;

const CONTROL_CHARACTER =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text made safe to print and store: control characters (C0, DEL and C1, among them NUL and the
 * escape that starts a terminal's sequences) and bidirectional controls become U+FFFD.
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

// What JSON.stringify leaves raw that a terminal, or a JavaScript parser of old, acts on: DEL, C1
// (U+009B starts a terminal sequence too), the bidirectional controls, and the line separators.
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A value as one line of JSON that a terminal cannot act on: JSON escapes C0 characters but not
 * DEL, C1 or the bidirectional controls, so those are escaped here, losslessly.
 *
 * @param value What to print.
 * @returns Its JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonLine } from "./text.ts";
 * assert.equal(jsonLine({ name: "a\u009b2J" }), '{"name":"a\\u009b2J"}');
 * assert.equal(jsonLine("evil\u202Egro.elpmaxe"), '"evil\\u202egro.elpmaxe"');
 * ```
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    RAW_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Long values are cut in messages: a whole certificate pasted by mistake helps nobody. */
const MAX_SHOWN_CHARS = 100;

/**
 * A value quoted for a message: JSON escapes (no raw control characters, bidirectional ones
 * included, reach a terminal), and cut short when long.
 *
 * @param value The value.
 * @returns The quoted value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoted } from "./text.ts";
 * assert.equal(quoted("a\u001bb"), '"a\\u001bb"');
 * assert.equal(quoted("a\u202eb"), '"a\\u202eb"');
 * ```
 */
export function quoted(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  if (text.length <= MAX_SHOWN_CHARS) return jsonLine(text);
  return `${jsonLine(text.slice(0, MAX_SHOWN_CHARS)).slice(0, -1)}…" (${text.length} characters)`;
}
