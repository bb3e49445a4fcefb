/**
 * `${NAME}` in a sites file takes the value of environment variable NAME, so secrets (tokens in
 * headers or URLs) stay out of the file. `$${` writes a literal `${`.
 *
 * @module
 */
import { formatKeyPath, type KeyPath } from "./yaml_source.ts";

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces references in every string value (not in keys) of parsed data.
 *
 * @param data Parsed YAML.
 * @param env The environment.
 * @param report Told about each reference to an unset variable, with where it is and its name.
 * @returns A copy of `data` with the references replaced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interpolateEnv } from "./interpolate.ts";
 * const data = interpolateEnv({ headers: { authorization: "Bearer ${TOKEN}" } }, { TOKEN: "t0k" }, () => {});
 * assert.deepEqual(data, { headers: { authorization: "Bearer t0k" } });
 * ```
 */
export function interpolateEnv(
  data: unknown,
  env: Readonly<Record<string, string | undefined>>,
  report: (path: KeyPath, message: string, name: string) => void,
): unknown {
  function visit(value: unknown, path: PropertyKey[]): unknown {
    if (typeof value === "string") {
      return value.replace(REFERENCE, (match, name: string | undefined) => {
        if (name === undefined) return "${";
        const replacement = env[name];
        if (replacement === undefined) {
          report(path, `refers to \${${name}}, which is not set in the environment`, name);
          return match;
        }
        return replacement;
      });
    }
    if (Array.isArray(value)) return value.map((item, index) => visit(item, [...path, index]));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, visit(item, [...path, key])]),
      );
    }
    return value;
  }
  return visit(data, []);
}

/**
 * Whether a value holds a `${NAME}` reference (a `$${` is none): what it stands for may be a
 * secret, so a message about the value shows it as written.
 *
 * @param value A value as written.
 * @returns True for a string with a reference in it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { holdsReference } from "./interpolate.ts";
 * assert.equal(holdsReference("Bearer ${TOKEN}"), true);
 * assert.equal(holdsReference("cost: $${price}"), false);
 * ```
 */
export function holdsReference(value: unknown): boolean {
  return typeof value === "string" &&
    [...value.matchAll(REFERENCE)].some(([, name]) => name !== undefined);
}

/**
 * What a `${NAME}` stands for when text is checked without resolving its references: a word that
 * fits in a host name, a path, a query or a header.
 */
export const REFERENCE_WORD = "x";

/** An environment where every name is set, to the {@link REFERENCE_WORD}. */
export const EVERY_NAME_A_WORD = new Proxy({}, { get: () => REFERENCE_WORD }) as Readonly<
  Record<string, string>
>;

/**
 * The key paths (as formatted: `sites[0].url`) of the values that hold a `${NAME}` reference.
 *
 * @param data Parsed YAML, references unresolved.
 * @returns The paths.
 */
export function referencedPaths(data: unknown): Set<string> {
  const paths = new Set<string>();
  // Against an empty environment, every reference is reported, with its path.
  interpolateEnv(data ?? {}, {}, (path) => paths.add(formatKeyPath(path)));
  return paths;
}
