/**
 * `${NAME}` in a sites file takes the value of environment variable NAME (`$${` is a literal `${`).
 *
 * @module
 */
import { formatKeyPath, type KeyPath } from "./yaml_source.ts";

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** A copy of parsed data, references in string values (not keys) resolved, unset ones reported. */
export function interpolateEnv(
  data: unknown,
  env: Readonly<Record<string, string | undefined>>,
  report: (path: KeyPath, message: string, name: string) => void,
): unknown {
  function visit(value: unknown, path: PropertyKey[]): unknown {
    if (typeof value === "string") {
      return value.replace(REFERENCE, (match, name: string | undefined) => {
        if (name === undefined) return "${";
        if (env[name] === undefined) {
          report(path, `refers to \${${name}}, which is not set in the environment`, name);
        }
        return env[name] ?? match;
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

/** Whether a value holds a `${NAME}` reference (`$${` is none): what it stands for may be a secret. */
export function holdsReference(value: unknown): boolean {
  return typeof value === "string" &&
    [...value.matchAll(REFERENCE)].some(([, name]) => name !== undefined);
}

/** What a `${NAME}` stands for when text is checked unresolved: a word that fits anywhere in a URL or a header. */
export const REFERENCE_WORD = "x";

/** An environment in which every name stands for the {@link REFERENCE_WORD}. */
export const EVERY_NAME_A_WORD: Readonly<Record<string, string>> = new Proxy({}, {
  get: () => REFERENCE_WORD,
});

/** The key paths (`sites[0].url`) of the values that hold a `${NAME}` reference. */
export function referencedPaths(data: unknown): Set<string> {
  const paths = new Set<string>();
  interpolateEnv(data ?? {}, {}, (path) => paths.add(formatKeyPath(path)));
  return paths;
}
