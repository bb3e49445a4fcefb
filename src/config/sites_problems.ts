/**
 * A sites file's problems at their file, line and key path, the value quoted, once each, in order.
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

type Issue = z.core.$ZodIssue;

/** Where problems go; the data as written, which messages quote; values with an unset reference. */
export interface ProblemContext {
  readonly report: Report;
  readonly written: unknown;
  readonly unset?: ReadonlySet<string>;
}

/** Reports the problems zod's issues stand for, each at its key path; `hidden` values are never shown. */
export function reportIssues(
  issues: readonly Issue[],
  context: ProblemContext,
  hidden?: (path: KeyPath) => boolean,
): void {
  for (const issue of issues.flatMap(typedIssues)) {
    if (context.unset?.has(formatKeyPath(issue.path))) continue;
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        context.report(
          [...issue.path, key],
          key === "<<"
            ? "is a merge key, which a sites file does not support: use the defaults block or write the keys out"
            : "is not a known key: remove it or check its spelling",
        );
      }
    } else if (issue.code === "invalid_key") {
      context.report(issue.path, issue.issues[0]?.message ?? issue.message);
    } else {
      context.report(issue.path, issueMessage(issue, context.written, hidden));
    }
  }
}

/** What an issue says, the value quoted as written (`params.withoutValue` if it has a `${NAME}`). */
function issueMessage(issue: Issue, written: unknown, hidden?: (path: KeyPath) => boolean): string {
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

/** A value to show in a message: as written when it holds a `${NAME}` reference, else as used. */
export function shownValue(written: unknown, path: KeyPath, used: string): string {
  const value = valueAt(written, path);
  return holdsReference(value) ? String(value) : used;
}

/** The issues of the union alternative of the right type instead of "matches no alternative". */
export function typedIssues(issue: Issue): Issue[] {
  if (issue.code !== "invalid_union") return [issue];
  const typed = issue.errors.find((branch) =>
    !branch.some((i) => i.code === "invalid_type" && i.path.length === 0)
  );
  if (typed === undefined) return [issue];
  return typed.flatMap((inner) => typedIssues({ ...inner, path: [...issue.path, ...inner.path] }));
}

/** A problem at `path` of `source`, with its line when known. */
export function problemAt(source: YamlSource, path: KeyPath, message: string): ConfigProblem {
  const line = source.lineOf(path);
  // A key with a control character in it would act on the terminal.
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

/** The error listing a sites file's problems once each (sites can share a bad default), by line. */
export function sitesFileError(
  problems: readonly ConfigProblem[],
  hint: (problem: ConfigProblem) => ConfigProblem = (problem) => problem,
): ConfigError {
  // The same path is on the same line: which of the same problems is kept makes no difference.
  const once = [...new Map(problems.map((p) => [`${p.path}\0${p.message}`, p])).values()];
  return new ConfigError(once.toSorted((a, b) => (a.line ?? 0) - (b.line ?? 0)).map(hint));
}
