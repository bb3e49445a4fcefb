/**
 * A sites file's problems as a person reads them: each at its file, line and key path, with the
 * value quoted (escaped, cut short), once each, in the order of the file.
 *
 * @module
 */
import type { z } from "zod";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { printable, quoted } from "../text.ts";
import { holdsReference } from "./interpolate.ts";
import { formatKeyPath, type KeyPath, type YamlSource } from "./yaml_source.ts";

/** Told about each problem found, with where it is (`["sites", 2, "alert", "regions"]`). */
export type Report = (path: KeyPath, message: string) => void;

/** Where the problems of (a part of) a sites file go, and what their messages may show. */
export interface ProblemContext {
  readonly report: Report;
  /** The data as written, references unresolved: what messages quote. */
  readonly written: unknown;
  /** The key paths (formatted) of values whose reference is not set: reported once, as unset. */
  readonly unset?: ReadonlySet<string>;
}

/**
 * Reports the problems that zod's issues stand for, each at its key path, once each.
 *
 * @param issues From a failed parse, at their full key paths.
 * @param context Where they go; `unset`: paths whose issues are left out.
 * @param hidden Whether the value at a path must never be shown (it may be a secret).
 */
export function reportIssues(
  issues: readonly z.core.$ZodIssue[],
  context: ProblemContext,
  hidden?: (path: KeyPath) => boolean,
): void {
  const { report } = context;
  for (const issue of issues.flatMap(typedIssues)) {
    if (context.unset?.has(formatKeyPath(issue.path))) continue;
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        report(
          [...issue.path, key],
          key === "<<"
            ? "is a merge key, which a sites file does not support: use the defaults block or write the keys out"
            : "is not a known key: remove it or check its spelling",
        );
      }
    } else if (issue.code === "invalid_key") {
      report(issue.path, issue.issues[0]?.message ?? issue.message);
    } else {
      report(issue.path, issueMessage(issue, context.written, hidden));
    }
  }
}

/**
 * What an issue says about the value at its path, the value quoted as written: one that holds a
 * `${NAME}` reference was checked with what the reference stands for, which may be a secret, so
 * the message says nothing that came from it (an issue whose message quotes a piece of its value
 * gives one without, as `params.withoutValue`).
 *
 * @param issue A zod issue (not a union's: see {@link typedIssues}).
 * @param written The data as written, references unresolved, at the issue's paths.
 * @param hidden Whether the value at a path must never be shown.
 * @returns The message.
 */
function issueMessage(
  issue: z.core.$ZodIssue,
  written: unknown,
  hidden?: (path: KeyPath) => boolean,
): string {
  const value = valueAt(written, issue.path);
  const withoutValue = issue.code === "custom" ? issue.params?.withoutValue : undefined;
  const said = holdsReference(value) && typeof withoutValue === "string"
    ? withoutValue
    : issue.message;
  const shown = hidden?.(issue.path) ? undefined : value;
  return value === undefined && issue.code === "invalid_type"
    ? "is required"
    : typeof shown === "string" && !said.includes(shown)
    ? `${said}: current value is ${quoted(shown)}`
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

/** A problem at `path` of `source`, with the line it is on when known. */
export function problemAt(source: YamlSource, path: KeyPath, message: string): ConfigProblem {
  const line = source.lineOf(path);
  // A key is shown as written; one with a control character in it would act on the terminal.
  const where = { file: source.file, path: printable(formatKeyPath(path)), message };
  return line === undefined ? where : { ...where, line };
}

/** The value at `path` of parsed data, if any. */
export function valueAt(data: unknown, path: KeyPath): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * The error that lists a sites file's problems: each once (several sites can share one bad
 * default), in the order of their lines.
 *
 * @param problems As found.
 * @param hint Adds to a problem's message what the reader needs to know to mend it.
 * @returns The error to throw.
 */
export function sitesFileError(
  problems: readonly ConfigProblem[],
  hint: (problem: ConfigProblem) => ConfigProblem = (problem) => problem,
): ConfigError {
  const seen = new Set<string>();
  const once = problems.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  return new ConfigError(once.toSorted((a, b) => (a.line ?? 0) - (b.line ?? 0)).map(hint));
}
