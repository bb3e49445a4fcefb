/**
 * A regular expression's program size, read from its text: re2js compiles up to a million
 * instructions, and 600,000 took 4 s and 480 MB to compile here.
 *
 * @module
 */

/** A group: branches done, the current branch but its last item (which may repeat), that item. */
function newFrame() {
  return { done: 0, branches: 1, before: 0, last: 0 };
}

const REPEAT = /\{(\d+)(?:(,)(\d*))?\}/y;
/** An escape: `\Q…\E` (to the end when unclosed), `\pL`, `\p{Greek}`, `\x{263a}`, `\d`. */
const ESCAPE = /\\(?:Q[\s\S]*?(?:\\E|$)|[pPx]\{[^}]*(?:\}|$)|[\s\S]?)/y;
/** A class, a `]` first a member: `[]a]`, `[^]a]`, `[[:alpha:]\]]`. */
const CLASS = new RegExp(`\\[\\^?\\]?(?:${ESCAPE.source}|\\[:[\\s\\S]*?:\\]|[^\\]])*\\]?`, "y");
/** `(?i)` (captured: it compiles to nothing), or `(`, `(?:`, `(?i:`, `(?P<name>`, `(?<name>`. */
const OPENING = /\((?:(\?[imsU-]*\))|\?(?:P?<[^>]*>|[imsU-]*:))?/y;

/**
 * An upper estimate of the instructions RE2 compiles `source` to, as re2js's and Go's `calcSize`: a
 * literal or a class is one, `x{n,m}` is `x` m times over; invalid RE2 too. Linear, no recursion.
 */
export function programSize(source: string): number {
  const stack = [newFrame()];
  const top = () => stack.at(-1)!;
  const item = (size: number) => {
    top().before += top().last;
    top().last = size;
  };
  let at = 0;
  while (at < source.length) {
    const char = source[at]!;
    if (char === "(") {
      OPENING.lastIndex = at;
      const flagsOnly = OPENING.exec(source)![1] !== undefined;
      at = OPENING.lastIndex;
      if (flagsOnly) item(0);
      else stack.push(newFrame());
    } else if (char === ")") {
      at += 1;
      // An unmatched `)` is an error RE2 reports; here it ends nothing.
      if (stack.length > 1) item(finished(stack.pop()!) + 2);
    } else if (char === "|") {
      at += 1;
      const frame = top();
      frame.done += frame.before + frame.last;
      frame.branches += 1;
      frame.before = frame.last = 0;
    } else if (char === "*" || char === "+" || char === "?") {
      at += 1;
      top().last += char === "*" ? 2 : 1;
    } else if (char === "{" && repeatAt(source, at) !== null) {
      const { low, high, end } = repeatAt(source, at)!;
      at = end;
      top().last = Math.max(high, 1) * top().last + Math.max(high - low, 1);
    } else if (char === "[") {
      at = endOf(CLASS, source, at);
      item(1);
    } else if (char === "\\") {
      const end = endOf(ESCAPE, source, at);
      // A quoted text (\Q…\E) is a literal of its length; anything else escaped is one item.
      item(source[at + 1] === "Q" ? Math.max(end - at - 4, 1) : 1);
      at = end;
    } else {
      at += 1;
      item(1);
    }
  }
  while (stack.length > 1) item(finished(stack.pop()!) + 2);
  return finished(stack[0]!);
}

/** The counts of the repetition at `at`; `{n,}` counts as `{n,n+1}`. */
function repeatAt(source: string, at: number) {
  REPEAT.lastIndex = at;
  const match = REPEAT.exec(source);
  if (match === null) return null;
  const [, min, comma, max] = match;
  const low = Number(min);
  const high = comma === undefined ? low : max === "" ? low + 1 : Number(max);
  return { low, high, end: REPEAT.lastIndex };
}

function finished(frame: ReturnType<typeof newFrame>): number {
  return frame.done + frame.before + frame.last + frame.branches - 1;
}

/** Where the match of the sticky `regex` at `at` ends; one character on when it does not match. */
function endOf(regex: RegExp, source: string, at: number): number {
  regex.lastIndex = at;
  return regex.test(source) ? regex.lastIndex : at + 1;
}
