/**
 * YAML text → plain data, keeping enough of the document to say on which line a key path lives.
 *
 * @module
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { ConfigProblem } from "../errors.ts";

/** A key path into parsed data: object keys and array indexes. */
export type KeyPath = readonly PropertyKey[];

/** A parsed YAML file. */
export interface YamlSource {
  /** The file name used in messages. */
  readonly file: string;
  /** The data, not yet validated. */
  readonly data: unknown;
  /** Syntax errors, each with its line; when there are any, `data` is not usable. */
  readonly problems: readonly ConfigProblem[];
  /**
   * The 1-based line of the node at `path`, or of its nearest existing ancestor.
   * @param path Where to look.
   * @returns A line number, or `undefined` for an empty document.
   */
  lineOf(path: KeyPath): number | undefined;
}

/**
 * Parses YAML text.
 *
 * @param text The file's contents.
 * @param file The file name used in messages.
 * @returns The data and a way back to line numbers.
 *
 * @example
 * ```ts
 * import { parseYaml } from "./yaml_source.ts";
 * const source = parseYaml("sites:\n  - id: a\n", "sites.yaml");
 * console.log(source.lineOf(["sites", 0, "id"])); // 2
 * ```
 */
export function parseYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const problems: ConfigProblem[] = doc.errors.map((error) => ({
    file,
    line: lineCounter.linePos(error.pos[0]).line,
    path: "",
    message: `is not valid YAML: ${firstLine(error.message)}`,
  }));

  function lineOf(path: KeyPath): number | undefined {
    let node: unknown = doc.contents;
    let offset = rangeStart(node);
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && scalarValue(item.key) === key);
        if (pair === undefined) break;
        offset = rangeStart(pair.value) ?? rangeStart(pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof key === "number" && key < node.items.length) {
        node = node.items[key];
        offset = rangeStart(node) ?? offset;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  }

  return { file, data: problems.length > 0 ? undefined : doc.toJS(), problems, lineOf };
}

function scalarValue(node: unknown): unknown {
  return isScalar(node) ? node.value : undefined;
}

function rangeStart(node: unknown): number | undefined {
  if (node === null || typeof node !== "object" || !("range" in node)) return undefined;
  const range = (node as { range?: readonly number[] | null }).range;
  return range?.[0];
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}

/**
 * Formats a key path the way a reader writes it: `sites[2].url`.
 *
 * @param path Keys and indexes.
 * @returns The dotted path, or `""` for the root.
 */
export function formatKeyPath(path: KeyPath): string {
  let text = "";
  for (const key of path) {
    text += typeof key === "number" ? `[${key}]` : text === "" ? String(key) : `.${String(key)}`;
  }
  return text;
}
