/**
 * Text from outside, kept from doing harm: PostgreSQL cannot store a NUL, a terminal acts on escape
 * sequences, and bidirectional controls reorder what follows them (a name can pose as another).
 *
 * @module
 */

/** Text without a NUL character. */
// deno-lint-ignore no-control-regex -- matching NUL is the point
export const NO_NUL = /^[^\u0000]*$/;

// As ranges: JSON Schema readers take the patterns without the `u` flag.
const CONTROLS =
  "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";

/** Text without control characters: C0, DEL, C1, or bidirectional controls. */
export const NO_CONTROL_CHARACTERS = new RegExp(`^[^${CONTROLS}]*$`);

const CONTROL_CHARACTER = new RegExp(`[${CONTROLS}]`, "g");

/** Text made safe to print and store: every control character becomes U+FFFD. */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARACTER, "\uFFFD");
}

// What JSON.stringify leaves raw that a terminal, or an old JavaScript parser, acts on.
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A value as one line of JSON, DEL, C1, bidirectional controls and line separators escaped. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    RAW_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Long values are cut in messages: a whole certificate pasted by mistake helps nobody. */
const MAX_SHOWN_CHARS = 100;

/** A value quoted for a message: escaped as by {@link jsonLine}, cut short when long. */
export function quoted(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  if (text.length <= MAX_SHOWN_CHARS) return jsonLine(text);
  return `${jsonLine(text.slice(0, MAX_SHOWN_CHARS)).slice(0, -1)}…" (${text.length} characters)`;
}

/** A zod issue as one line: `path: message`, the path `(root)` for the value itself. */
export function issueLine(
  issue: { readonly path: readonly PropertyKey[]; readonly message: string },
): string {
  return `${issue.path.join(".") || "(root)"}: ${issue.message}`;
}
