/**
 * Durations as people write them in configuration: `500ms`, `30s`, `5m`, `1h`, `1m30s`.
 *
 * @module
 */
import { z } from "zod";

/** Largest first, as {@link durationPattern} wants them written. */
const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
const UNITS = Object.entries(UNIT_MS);
const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const DURATION_HINT = 'must be a duration such as "2s" or "500ms"';

/** A duration such as `"1m30s"` in whole milliseconds; `undefined` when it is none. */
export function parseDurationMs(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let totalMs = 0;
  for (const [, count, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    totalMs += Number(count) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Math.round(totalMs);
}

/** Milliseconds as {@link parseDurationMs} reads them, e.g. `"5s"` or `"250ms"`, for messages. */
export function formatDuration(ms: number): string {
  const [name, unitMs] = UNITS.find(([, size]) => ms > 0 && ms % size === 0) ?? ["ms", 1];
  return `${ms / unitMs}${name}`;
}

/** A duration from `minMs` to `maxMs`; `hint` is the message for text that is no duration. */
export function durationSchema(minMs: number, maxMs: number, hint = DURATION_HINT) {
  return z.string({ error: hint })
    .regex(DURATION, { error: hint, abort: true })
    .refine((text) => parseDurationMs(text)! >= minMs, {
      error: `must be at least ${formatDuration(minMs)}`,
      abort: true,
    })
    .refine((text) => parseDurationMs(text)! <= maxMs, {
      error: `must be at most ${formatDuration(maxMs)}`,
      abort: true,
    });
}

/**
 * Exactly the durations from `minMs` to `maxMs` as a JSON Schema can state them: whole units,
 * largest first, each once and less than one of the unit before (`1m30s`, not `1.5m` or `1m90s`).
 */
export function durationPattern(minMs: number, maxMs: number): RegExp {
  const parts = UNITS.map(([name, unitMs], index) =>
    index === 0 ? "" : `(?:${group(numbers(1, UNITS[index - 1]![1] / unitMs - 1))}${name})?`
  );
  const ways = UNITS.flatMap(([name, unitMs], index) => {
    const whole = (ms: number) => ms <= unitMs || ms % unitMs === 0;
    if (!whole(minMs) || !whole(maxMs)) {
      throw new Error(`Duration bounds ${minMs}ms and ${maxMs}ms are not whole ${name}`);
    }
    const low = Math.max(1, Math.ceil(minMs / unitMs));
    const high = Math.floor(maxMs / unitMs);
    // `high` of the first unit is `maxMs` itself: no part may follow it.
    return [
      ...(low < high
        ? [`${group(numbers(low, high - 1))}${name}${parts.slice(index + 1).join("")}`]
        : []),
      ...(low <= high ? [`${high}${name}`] : []),
    ];
  });
  return new RegExp(`^(?:${ways.join("|")})$`);
}

function group(ways: readonly string[]): string {
  return ways.length === 1 ? ways[0]! : `(?:${ways.join("|")})`;
}

/** The whole numbers from `low` (at least 1) to `high` as alternatives: `[1-9]\d{2}`, 100-999. */
function numbers(low: number, high: number): string[] {
  const ways: string[] = [];
  while (low <= high) {
    // The widest block of 10^k numbers that starts at `low` and ends within `high`.
    let size = 1;
    while (low % (size * 10) === 0 && low + size * 10 - 1 <= high) size *= 10;
    const digit = (low / size) % 10;
    const count = Math.min(Math.floor((high - low + 1) / size), 10 - digit);
    const prefix = Math.floor(low / size / 10) || "";
    const digits = count === 1 ? `${digit}` : `[${digit}-${digit + count - 1}]`;
    const zeros = Math.log10(size);
    ways.push(`${prefix}${digits}${zeros === 0 ? "" : zeros === 1 ? "\\d" : `\\d{${zeros}}`}`);
    low += count * size;
  }
  return ways;
}
