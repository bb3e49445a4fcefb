/**
 * Text from the database on its way into HTML or SVG: site names, region names, error kinds. Its
 * control characters become U+FFFD: bidirectional overrides among them could make one name pose as
 * another.
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

/** Text safe in an element or a quoted attribute: `& < > " '` as entities, controls as U+FFFD. */
export function html(text: string): string {
  return printable(text).replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}
