/**
 * Durations as people write them in configuration: `500ms`, `30s`, `5m`, `1h`, `1m30s`.
 *
 * @module
 */
import { z } from "zod";

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/** A duration such as `"1m30s"` in whole milliseconds; `undefined` when it is none. */
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

/** Milliseconds as {@link parseDurationMs} reads them, e.g. `"5s"` or `"250ms"`, for messages. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0 && ms > 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/**
 * A duration as written (`"2s"`, `"1m30s"`) from `minMs` to `maxMs`; `hint` is the message for
 * text that is no duration. Each check stops the next: one problem, one message.
 */
export function durationSchema(
  minMs: number,
  maxMs: number,
  hint = 'must be a duration such as "2s" or "500ms"',
) {
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

const UNITS = [["h", 3_600_000], ["m", 60_000], ["s", 1_000], ["ms", 1]] as const;

/**
 * A regular expression that matches exactly the durations from `minMs` to `maxMs` written as whole
 * numbers of units, largest first, each once and each after the first less than one of the unit
 * before it (`90s`, `1m30s`, not `1.5m`, `30s1m` or `1m90s`): a JSON Schema can state the bounds
 * with it, as it cannot add parts up.
 */
export function durationPattern(minMs: number, maxMs: number): RegExp {
  return new RegExp(`^(?:${spelled(0, minMs, maxMs, true).join("|")})$`);
}

/**
 * The ways to write `lowMs` to `highMs` with the units from `UNITS[from]` on: a whole duration when
 * `leading`, else what follows a first part (each less than one of the unit before; "" is zero).
 */
function spelled(from: number, lowMs: number, highMs: number, leading: boolean): string[] {
  const ways = !leading && lowMs === 0 ? [""] : [];
  for (let index = from; index < UNITS.length; index++) {
    const [name, unitMs] = UNITS[index]!;
    // What the smaller units can add after this part: less than one of this unit.
    const restMs = index + 1 < UNITS.length ? unitMs - 1 : 0;
    const most = leading ? Infinity : UNITS[index - 1]![1] / unitMs - 1;
    const first = Math.max(1, Math.ceil((lowMs - restMs) / unitMs));
    const last = Math.min(most, Math.floor(highMs / unitMs));
    // Counts after which any rest will do, and the one or two at the ends that limit it.
    const anyFirst = Math.max(first, Math.ceil(lowMs / unitMs));
    const anyLast = Math.min(last, Math.floor((highMs - restMs) / unitMs));
    const rest = (lo: number, hi: number) => group(spelled(index + 1, lo, hi, false));
    if (anyFirst <= anyLast) {
      ways.push(`${group(numbers(anyFirst, anyLast))}${name}${rest(0, restMs)}`);
    }
    for (let count = first; count <= last; count++) {
      if (anyFirst <= count && count <= anyLast) {
        count = anyLast;
        continue;
      }
      const lo = Math.max(0, lowMs - count * unitMs);
      const hi = Math.min(restMs, highMs - count * unitMs);
      const after = spelled(index + 1, lo, hi, false);
      if (after.length > 0) ways.push(`${count}${name}${group(after)}`);
    }
  }
  return ways;
}

/** Alternatives as one group; one alone as it is. */
function group(ways: readonly string[]): string {
  if (ways.length === 1) return ways[0]!;
  return ways.includes("")
    ? `(?:${ways.filter((way) => way !== "").join("|")})?`
    : `(?:${ways.join("|")})`;
}

/** The whole numbers from `low` to `high` (no leading zeros), as alternatives. */
function numbers(low: number, high: number): string[] {
  const ways: string[] = [];
  for (let digits = String(low).length; digits <= String(high).length; digits++) {
    const from = Math.max(low, digits === 1 ? 0 : 10 ** (digits - 1));
    const to = Math.min(high, 10 ** digits - 1);
    ways.push(...sameLength(String(from), String(to)));
  }
  return ways;
}

/** The numbers from `low` to `high`, both written with as many digits. */
function sameLength(low: string, high: string): string[] {
  if (low === "") return [""];
  const [l, h, lowRest, highRest] = [low[0]!, high[0]!, low.slice(1), high.slice(1)];
  if (l === h) return sameLength(lowRest, highRest).map((way) => l + way);
  const zeros = "0".repeat(lowRest.length);
  const nines = "9".repeat(lowRest.length);
  const ways: string[] = [];
  let [from, to] = [Number(l), Number(h)];
  if (lowRest !== zeros) {
    ways.push(...sameLength(lowRest, nines).map((way) => l + way));
    from++;
  }
  if (highRest !== nines) to--;
  if (from <= to) {
    const digit = from === to ? String(from) : `[${from}-${to}]`;
    const more = lowRest.length;
    ways.push(digit + (more === 0 ? "" : more === 1 ? "\\d" : `\\d{${more}}`));
  }
  if (highRest !== nines) ways.push(...sameLength(zeros, highRest).map((way) => h + way));
  return ways;
}
