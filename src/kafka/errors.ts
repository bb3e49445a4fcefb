/**
 * What went wrong with Kafka, in one line: the client library reports a failure as a tree of
 * errors (every retry, every broker tried, causes within causes), where the telling one — a
 * refused password, an untrusted certificate — sits at a leaf under "Cannot connect to any
 * broker".
 *
 * @module
 */

import { ServiceError } from "../errors.ts";

/** An error as the library builds them: a message, perhaps a cause, perhaps several errors. */
interface ErrorNode {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
  /** On the broker's own errors: what the broker said. */
  readonly serverErrorMessage?: unknown;
}

/**
 * Describes a failure of the Kafka client: the operation that failed, then the most telling
 * path down its tree of causes — an authentication failure first, else an error of the network
 * or TLS layer, else the last attempt's — without the wrappers that only count attempts. The
 * library's messages carry no credentials.
 *
 * @param error What a function of `src/kafka/` threw.
 * @returns One line, sentence case, no trailing period.
 *
 * @example A refused password, under every broker tried and every retry
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeKafkaError } from "./errors.ts";
 * const refused = Object.assign(new Error("SASL authentication failed."), {
 *   code: "PLT_KFK_AUTHENTICATION",
 * });
 * const attempt = () =>
 *   new AggregateError(
 *     [new Error("Connection to kafka:9093 failed.", { cause: refused })],
 *     "Cannot connect to any broker.",
 *   );
 * assert.equal(
 *   describeKafkaError(new AggregateError([attempt(), attempt()], "Listing topics failed.")),
 *   "Listing topics failed: Connection to kafka:9093 failed: SASL authentication failed",
 * );
 * ```
 */
export function describeKafkaError(error: unknown): string {
  const paths = pathsOf(error as ErrorNode, []);
  const chosen = paths.find((path) => path.some(isAuthentication)) ??
    paths.findLast((path) => isForeign(path.at(-1)!)) ??
    paths.at(-1)!;
  const [top, ...below] = chosen;
  const parts = [top!, ...below.filter((node) => !isAggregate(node))].map(text);
  // "SASL authentication failed" above "SASL authentication failed: <what the broker said>".
  const telling = parts.filter((part, i) =>
    part !== "" && !(i > 0 && parts[i + 1]?.startsWith(part)) && part !== parts[i - 1]
  );
  return telling.join(": ") || String(error);
}

/**
 * A failure of Kafka for good (the library retries what can be retried), as the user sees it: the
 * telling cause, no stack trace of the library's wrappers.
 *
 * @param error What the library threw or emitted.
 * @returns A {@link ServiceError} with `error` as its cause.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kafkaFailure } from "./errors.ts";
 * const error = new Error("Listing topics failed.", { cause: new Error("Group authorization failed") });
 * assert.equal(kafkaFailure(error).message, "Kafka failed: Listing topics failed: Group authorization failed");
 * ```
 */
export function kafkaFailure(error: unknown): ServiceError {
  return new ServiceError(`Kafka failed: ${describeKafkaError(error)}`, { cause: error });
}

/** Every path from `node` to a leaf of its tree. */
function pathsOf(node: ErrorNode, above: readonly ErrorNode[]): ErrorNode[][] {
  const path = [...above, node];
  const children = [
    ...(Array.isArray(node.errors) ? node.errors : []),
    ...(node.cause instanceof Object ? [node.cause] : []),
  ] as ErrorNode[];
  if (children.length === 0 || path.length > 20) return [path];
  return children.flatMap((child) => pathsOf(child, path));
}

function isAuthentication(node: ErrorNode): boolean {
  return node.code === "PLT_KFK_AUTHENTICATION";
}

/** An error of the runtime (a socket, TLS), not of the library: it says what really happened. */
function isForeign(node: ErrorNode): boolean {
  return typeof node.code === "string" && !node.code.startsWith("PLT_KFK_");
}

function isAggregate(node: ErrorNode): boolean {
  return Array.isArray(node.errors);
}

function text(node: ErrorNode): string {
  const message = String(node.message ?? "").trim().replace(/[.:]+$/, "").trim();
  const server = typeof node.serverErrorMessage === "string" ? node.serverErrorMessage.trim() : "";
  return server === "" || message.includes(server) ? message : `${message}: ${server}`;
}
