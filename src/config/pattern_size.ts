/**
 * How big a regular expression's compiled program would be, read from its text without compiling
 * it: compiling and matching cost grow with that size, and re2js refuses only programs of over a
 * million instructions, which take seconds and hundreds of MB to compile (600,000 instructions: 4 s
 * and 480 MB here) and up to minutes to match a 1 MiB body.
 *
 * @module
 */

/** A group (or the whole expression) being read: finished branches, then the current one. */
interface Frame {
  done: number;
  branches: number;
  /** The current branch but its last item, which a repetition may still apply to. */
  before: number;
  last: number;
}

const REPEAT = /\{(\d+)(?:(,)(\d*))?\}/y;
const FLAGS_ONLY = /\(\?[imsU-]*\)/y;
/** `(?i)` compiles to nothing; a group opens with `(`, `(?:`, `(?i:`, `(?P<name>` or `(?<name>`. */
const GROUP_OPENING = /\((?:\?(?:P?<[^>]*>|[imsU-]*:))?/y;

/**
 * An upper estimate of the instructions RE2 compiles `source` to, as RE2 estimates it before
 * compiling (`calcSize` of re2js and Go's regexp/syntax): a literal or a class is one, `x{n,m}` is
 * `x` m times over. Invalid RE2 gets an estimate too; compiling it says what is wrong. Linear in
 * the length of `source`, no recursion.
 */
export function programSize(source: string): number {
  const stack: Frame[] = [{ done: 0, branches: 1, before: 0, last: 0 }];
  const top = () => stack.at(-1)!;
  const item = (size: number) => {
    top().before += top().last;
    top().last = size;
  };
  let at = 0;
  while (at < source.length) {
    const char = source[at]!;
    if (char === "(") {
      FLAGS_ONLY.lastIndex = at;
      if (FLAGS_ONLY.test(source)) {
        at = FLAGS_ONLY.lastIndex;
        item(0);
        continue;
      }
      GROUP_OPENING.lastIndex = at;
      GROUP_OPENING.test(source);
      at = GROUP_OPENING.lastIndex;
      stack.push({ done: 0, branches: 1, before: 0, last: 0 });
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
      at = classEnd(source, at);
      item(1);
    } else if (char === "\\") {
      const end = escapeEnd(source, at);
      // A quoted text (\Q…\E) is a literal of its length; anything else escaped is one item.
      item(source[at + 1] === "Q" ? Math.max(end - at - 4, 1) : 1);
      at = end;
    } else {
      at += 1;
      item(1);
    }
  }
  while (stack.length > 1) {
    const size = finished(stack.pop()!) + 2;
    item(size);
  }
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

function finished(frame: Frame): number {
  return frame.done + frame.before + frame.last + frame.branches - 1;
}

/** Where the escape at `at` ends: `\pL`, `\p{Greek}`, `\x{263a}`, `\Q…\E`, `\d`. */
function escapeEnd(source: string, at: number): number {
  const next = source[at + 1];
  if (next === "Q") {
    const end = source.indexOf("\\E", at + 2);
    return end < 0 ? source.length : end + 2;
  }
  if ((next === "p" || next === "P" || next === "x") && source[at + 2] === "{") {
    const end = source.indexOf("}", at + 3);
    return end < 0 ? source.length : end + 1;
  }
  return Math.min(at + 2, source.length);
}

/** Where the class opened at `at` ends: `[]a]`, `[^]a]`, `[[:alpha:]\]]`. */
function classEnd(source: string, at: number): number {
  let index = at + 1;
  if (source[index] === "^") index += 1;
  // A `]` first is a member, not the end.
  if (source[index] === "]") index += 1;
  while (index < source.length && source[index] !== "]") {
    if (source[index] === "\\") index = escapeEnd(source, index);
    else if (source.startsWith("[:", index)) {
      const end = source.indexOf(":]", index + 2);
      index = end < 0 ? index + 1 : end + 2;
    } else index += 1;
  }
  return Math.min(index + 1, source.length);
}
