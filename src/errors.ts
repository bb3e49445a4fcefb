/**
 * The kinds of error the user sees; anything else that escapes is a bug, shown with its stack.
 *
 * @module
 */

/** A problem in a configuration file. */
export interface ConfigProblem {
  readonly file: string;
  /** 1-based line of the offending key or value, when it is known. */
  readonly line?: number;
  /** Key path such as `sites[2].url`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

/** The user asked for something that cannot work: a bad argument or setting. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A configuration file is unusable: every problem found, in file order. Exit code 2. */
export class ConfigError extends UsageError {
  override name = "ConfigError";

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
  }
}

/** A problem as `file:line: path message`, the shape editors and terminals link. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  const subject = problem.path === "" ? "" : `${problem.path} `;
  return `${where}: ${subject}${problem.message}`;
}

/** Kafka or PostgreSQL cannot be used: the message says where (no secrets), what to do. Exit 1 */
export class ServiceError extends Error {
  override name = "ServiceError";
}
