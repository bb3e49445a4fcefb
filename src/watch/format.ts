/**
 * How `monitor watch` writes things in the few columns a terminal has.
 *
 * @module
 */
import stringWidth from "string-width";
import type { Status } from "./site.ts";

/** How each status reads without colour (its symbol, and a text with it), and its colour. */
export const MARKS: Readonly<Record<Status, { symbol: string; text: string; color: string }>> = {
  up: { symbol: "✔", text: "✔ up", color: "green" },
  down: { symbol: "✖", text: "✖ down", color: "red" },
  degraded: { symbol: "▲", text: "▲ degr", color: "yellow" },
  stale: { symbol: "?", text: "? stale", color: "gray" },
};

/**
 * `text` cut or padded to exactly `width` terminal columns (at least 2), the last one blank: a CJK
 * character or an emoji takes two, a combining mark none.
 */
export function pad(text: string, width: number, right = false): string {
  const shown = fit(text, width - 1);
  const fill = " ".repeat(Math.max(0, width - 1 - stringWidth(shown)));
  return right ? `${fill}${shown} ` : `${shown}${fill} `;
}

/** @returns `text`, cut to `width` columns with an ellipsis when longer. */
export function fit(text: string, width: number): string {
  return stringWidth(text) <= width ? text : `${truncate(text, Math.max(0, width - 1))}…`;
}

const GRAPHEMES = new Intl.Segmenter();

/** @returns The longest start of `text` fitting in `width` columns, never splitting a character. */
export function truncate(text: string, width: number): string {
  let used = 0;
  let end = 0;
  for (const { segment } of GRAPHEMES.segment(text)) {
    used += stringWidth(segment);
    if (used > width) break;
    end += segment.length;
  }
  return text.slice(0, end);
}

const BARS = "▁▂▃▄▅▆▇█";

/** @returns The last `width` values as bars between their minimum and maximum; `·` for null. */
export function sparkline(values: readonly (number | null)[], width: number): string {
  const shown = values.slice(-width);
  const numbers = shown.filter((v): v is number => v !== null);
  const min = Math.min(...numbers);
  const span = Math.max(...numbers) - min;
  return shown.map((v) =>
    v === null ? "·" : BARS[span === 0 ? 3 : Math.round(((v - min) / span) * (BARS.length - 1))]
  ).join("");
}

/** A time in milliseconds: one decimal below 10 ms, whole ones above; `-` for none. */
export function milliseconds(ms: number | null): string {
  if (ms === null) return "-";
  return ms < 10 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`;
}

/** @returns Whether the body matched the site's pattern, as a word; nothing without a pattern. */
export function patternText(matched: boolean | null): string {
  return matched === null ? "" : matched ? "match" : "MISSING";
}

/** A duration in its largest whole unit: `12s`, `4m`, `3h`, `2d` (a negative one as none). */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
