/**
 * Durations as people write them in configuration: `500ms`, `30s`, `5m`, `1h`, `1m30s`.
 *
 * @module
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/**
 * Parses a duration.
 *
 * @param text A duration such as `"1m30s"`.
 * @returns The duration in whole milliseconds, or `undefined` when `text` is not a duration.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDurationMs } from "./duration.ts";
 * assert.equal(parseDurationMs("1m30s"), 90_000);
 * ```
 */
export function parseDurationMs(text: string): number | undefined {
  if (text === "") return undefined;
  let totalMs = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (match === null) return undefined;
    totalMs += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  return Math.round(totalMs);
}

/**
 * Formats milliseconds the way {@link parseDurationMs} reads them, for messages.
 *
 * @param ms A non-negative duration.
 * @returns For example `"5s"` or `"250ms"`.
 */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0 && ms > 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
