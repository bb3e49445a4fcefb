/**
 * A sites file's problems as a person reads them: each at its file, line and key path, with the
 * value quoted (escaped, cut short), once each, in the order of the file.
 *
 * @module
 */
import type { z } from "zod";
import type { ConfigProblem } from "../errors.ts";
import { jsonLine, printable } from "../text.ts";
import { holdsReference } from "./interpolate.ts";
import { formatKeyPath, type KeyPath, type YamlSource } from "./yaml_source.ts";

/** The problems a zod issue stands for, each at its file, line and key path. */
export function fromIssue(source: YamlSource, issue: z.core.$ZodIssue): ConfigProblem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) =>
      problemAt(
        source,
        [...issue.path, key],
        key === "<<"
          ? "is a merge key, which a sites file does not support: use the defaults block or write the keys out"
          : "is not a known key: remove it or check its spelling",
      )
    );
  }
  if (issue.code === "invalid_union") {
    const typed = typedIssues(issue);
    if (typed[0] !== issue) return typed.flatMap((inner) => fromIssue(source, inner));
  }
  if (issue.code === "invalid_key") {
    return [problemAt(source, issue.path, issue.issues[0]?.message ?? issue.message)];
  }
  return [problemAt(source, issue.path, issueMessage(issue, source.data))];
}

/**
 * What an issue says about the value at its path, the value quoted as written: one that holds a
 * `${NAME}` reference was checked with what the reference stands for, which may be a secret, so
 * the message says nothing that came from it (an issue whose message quotes a piece of its value
 * gives one without, as `params.withoutValue`).
 *
 * @param issue A zod issue (not a union's: see {@link typedIssues}).
 * @param written The data as written, references unresolved, at the issue's paths.
 * @returns The message.
 */
export function issueMessage(issue: z.core.$ZodIssue, written: unknown): string {
  const value = valueAt(written, issue.path);
  const withoutValue = issue.code === "custom" ? issue.params?.withoutValue : undefined;
  const said = holdsReference(value) && typeof withoutValue === "string"
    ? withoutValue
    : issue.message;
  // A channel's values may be secrets (a Slack URL, a webhook secret): they are never shown.
  const shown = isChannelValue(issue.path) ? undefined : value;
  return value === undefined && issue.code === "invalid_type"
    ? "is required"
    : typeof shown === "string" && !said.includes(shown)
    ? `${said}: current value is ${quoteValue(shown)}`
    : typeof shown === "number"
    ? `${said}: current value is ${shown}`
    : said;
}

/**
 * A value for a message about the value at `path`: as written when it holds a `${NAME}` reference
 * (what that stands for may be a secret), otherwise as used.
 *
 * @param written The data as written.
 * @param path Where the value is.
 * @param used The value as used, as the message would show it.
 * @returns The text to show.
 */
export function shownValue(written: unknown, path: KeyPath, used: string): string {
  const value = valueAt(written, path);
  return holdsReference(value) ? String(value) : used;
}

/**
 * The issues of the alternative that has the right type (say, the string form of a pattern that
 * does not compile) instead of a union's "matches no alternative", at their full paths.
 *
 * @param issue A zod issue.
 * @returns Its alternative's issues, or the issue itself when it is no union or no alternative has
 *   the right type.
 */
export function typedIssues(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== "invalid_union") return [issue];
  const typed = issue.errors.find((branch) =>
    !branch.some((i) => i.code === "invalid_type" && i.path.length === 0)
  );
  if (typed === undefined) return [issue];
  return typed.flatMap((inner) => typedIssues({ ...inner, path: [...issue.path, ...inner.path] }));
}

/** Whether `path` is a value inside a channel of the `channels` map, but its `type`. */
export function isChannelValue(path: KeyPath): boolean {
  return path[0] === "channels" && path.length >= 3 && path[2] !== "type";
}

/** Long values are cut: a message is read on a terminal. */
const MAX_SHOWN_CHARS = 100;

/**
 * A value for a message: JSON-escaped (no raw control characters, bidirectional ones included),
 * cut short when long.
 */
export function quoteValue(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  if (text.length <= MAX_SHOWN_CHARS) return jsonLine(text);
  const start = jsonLine(text.slice(0, MAX_SHOWN_CHARS)).slice(0, -1);
  return `${start}…" (${text.length} characters)`;
}

/** A problem at `path` of `source`, with the line it is on when known. */
export function problemAt(source: YamlSource, path: KeyPath, message: string): ConfigProblem {
  const line = source.lineOf(path);
  // A key is shown as written; one with a control character in it would act on the terminal.
  const where = { file: source.file, path: printable(formatKeyPath(path)), message };
  return line === undefined ? where : { ...where, line };
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Several sites can share one bad default; it is reported once. */
export function unique(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** Problems in the order of their lines. */
export function sortByLine(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.toSorted((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
