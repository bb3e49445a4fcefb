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

// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Text made safe to print and store: control characters (C0, DEL and C1, among them NUL and the
 * escape that starts a terminal's sequences) become U+FFFD.
 *
 * @param text Text from outside.
 * @returns The text without control characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printable } from "./text.ts";
 * assert.equal(printable("Shop\u001b[2J"), "Shop\uFFFD[2J");
 * ```
 */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARACTER, "\uFFFD");
}
