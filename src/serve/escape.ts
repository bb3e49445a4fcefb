/**
 * Text from the database on its way into HTML or SVG: site names, region names, error kinds. Every
 * such text passes through {@link html}; control characters (bidirectional overrides among them,
 * which could make one name pose as another) become U+FFFD first.
 *
 * @module
 */
import { printable } from "../text.ts";

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Text safe inside an element or a quoted attribute of HTML or SVG: `& < > " '` as entities and
 * control characters as U+FFFD.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { html } from "./escape.ts";
 * assert.equal(html(`<script>"x"</script>`), "&lt;script&gt;&quot;x&quot;&lt;/script&gt;");
 * assert.equal(html("a\u202eb"), "a\uFFFDb");
 * ```
 */
export function html(text: string): string {
  return printable(text).replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}
