/**
 * What went wrong with Kafka, in one line, from the library's tree of errors.
 *
 * @module
 */
import { ServiceError } from "../errors.ts";

/** An error as the library builds them (`serverErrorMessage`: what the broker said). */
type ErrorNode = Partial<
  Record<"message" | "code" | "cause" | "errors" | "serverErrorMessage", unknown>
>;

/**
 * The operation, then the most telling path down its tree of causes (every retry, every broker
 * tried): an authentication failure first, else an error of the network or TLS layer, else the
 * last attempt's, without the wrappers that only count attempts. Carries no credentials.
 *
 * @example A refused password, under every broker tried and every retry
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeKafkaError } from "./errors.ts";
 * const refused = Object.assign(new Error("SASL authentication failed."), { code: "PLT_KFK_AUTHENTICATION" });
 * const broker = new Error("Connection to kafka:9093 failed.", { cause: refused });
 * const attempt = () => new AggregateError([broker], "Cannot connect to any broker.");
 * assert.equal(
 *   describeKafkaError(new AggregateError([attempt(), attempt()], "Listing topics failed.")),
 *   "Listing topics failed: Connection to kafka:9093 failed: SASL authentication failed",
 * );
 * ```
 */
export function describeKafkaError(error: unknown): string {
  const paths = pathsOf(error as ErrorNode, []);
  const chosen = paths.find((path) => path.some((n) => n.code === "PLT_KFK_AUTHENTICATION")) ??
    // An error of the runtime (a socket, TLS), not of the library, says what really happened.
    paths.findLast((path) => {
      const code = path.at(-1)!.code;
      return typeof code === "string" && !code.startsWith("PLT_KFK_");
    }) ??
    paths.at(-1)!;
  const [top, ...below] = chosen;
  const parts = [top!, ...below.filter((node) => !Array.isArray(node.errors))].map(text);
  // "SASL authentication failed" above "SASL authentication failed: <what the broker said>".
  const telling = parts.filter((part, i) =>
    part !== "" && !(i > 0 && parts[i + 1]?.startsWith(part)) && part !== parts[i - 1]
  );
  return telling.join(": ") || String(error);
}

/**
 * A failure of Kafka for good, as the user sees it (a {@link ServiceError} already is one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kafkaFailure } from "./errors.ts";
 * const error = new Error("Listing topics failed.", { cause: new Error("Group authorization failed") });
 * assert.equal(kafkaFailure(error).message, "Kafka failed: Listing topics failed: Group authorization failed");
 * assert.equal(kafkaFailure(kafkaFailure(error)).message, kafkaFailure(error).message);
 * ```
 */
export function kafkaFailure(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
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

function text(node: ErrorNode): string {
  const message = String(node.message ?? "").trim().replace(/[.:]+$/, "").trim();
  const server = typeof node.serverErrorMessage === "string" ? node.serverErrorMessage.trim() : "";
  return server === "" || message.includes(server) ? message : `${message}: ${server}`;
}
