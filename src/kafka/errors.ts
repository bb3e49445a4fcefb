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
 * The operation, then the most telling path down its tree of causes: an authentication failure,
 * else a runtime's (socket, TLS), else the last attempt's; without wrappers, and no credentials.
 */
export function describeKafkaError(error: unknown): string {
  const paths = pathsOf(error as ErrorNode, []);
  const chosen = paths.find((path) => path.some((n) => n.code === "PLT_KFK_AUTHENTICATION")) ??
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

/** A failure of Kafka for good, as the user sees it (a {@link ServiceError} already is one). */
export function kafkaFailure(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  return new ServiceError(`Kafka failed: ${describeKafkaError(error)}`, { cause: error });
}

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
