/**
 * The two kinds of error the user sees. Anything else that escapes is a bug and is shown with its
 * stack trace.
 *
 * @module
 */

/** A location in a configuration file, one per problem found there. */
export interface ConfigProblem {
  /** The file, as the user named it. */
  readonly file: string;
  /** 1-based line of the offending key or value, when it is known. */
  readonly line?: number;
  /** Key path such as `sites[2].url`; empty for the whole file. */
  readonly path: string;
  /** What is wrong and, where it helps, what to do. */
  readonly message: string;
}

/**
 * The user asked for something that cannot work: a bad argument or setting. Exit code 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./errors.ts";
 * const error = new UsageError('KAFKA_TOPIC_PARTITIONS must be an integer of at least 1: current value is "x"');
 * assert.equal(error.name, "UsageError");
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * A configuration file is unusable. Carries every problem found, each with file, line and key path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError } from "./errors.ts";
 * const error = new ConfigError([{ file: "sites.yaml", line: 3, path: "sites[0].url", message: "must be a URL" }]);
 * assert.equal(error.message, "sites.yaml:3: sites[0].url must be a URL");
 * ```
 */
export class ConfigError extends UsageError {
  override name = "ConfigError";
  /** Every problem found, in file order. */
  readonly problems: readonly ConfigProblem[];

  /** @param problems At least one problem. */
  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.problems = problems;
  }
}

/**
 * Formats a problem as `file:line: path message`, the shape editors and terminals link.
 *
 * @param problem The problem to format.
 * @returns One line of text.
 */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  const subject = problem.path === "" ? "" : `${problem.path} `;
  return `${where}: ${subject}${problem.message}`;
}

/**
 * Kafka or PostgreSQL cannot be reached or refused us. Not a bug: the message says which service,
 * where (without credentials) and what to do. Exit code 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServiceError } from "./errors.ts";
 * const error = new ServiceError('Cannot use Kafka at "127.0.0.1:19092": connect ECONNREFUSED');
 * assert.equal(error.name, "ServiceError");
 * ```
 */
export class ServiceError extends Error {
  override name = "ServiceError";
}
