/**
 * YAML text → plain data, keeping enough of the document to say on which line a key path lives.
 *
 * @module
 */
import { type Document, isAlias, isMap, isNode, isSeq, LineCounter, parseDocument } from "yaml";
import type { ConfigProblem } from "../errors.ts";

/** Far deeper than a sites file needs (five levels): refused before anything walks it. */
const MAX_YAML_DEPTH = 64;
/** Enough to share a block of headers, too few for a "billion laughs". */
const MAX_ALIAS_COUNT = 100;
/** Syntax errors after the first few are mostly echoes of them. */
const MAX_SYNTAX_PROBLEMS = 10;
/** What YAML 1.2 does not allow in a stream: C0 controls but tab, CR and LF; DEL; C1 but NEL. */
const UNPRINTABLE =
  // deno-lint-ignore no-control-regex -- finding control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/;

/** A key path into parsed data: object keys and array indexes. */
export type KeyPath = readonly PropertyKey[];

/** A parsed YAML file: its data (`undefined` when it has problems) and the line of a key path. */
export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  readonly problems: readonly ConfigProblem[];
  /** The line of the node at `path` or its nearest ancestor; `undefined` for an empty document. */
  lineOf(path: KeyPath): number | undefined;
}

/** Parses YAML text, keeping a way back from a key path to its line. */
export function parseYaml(text: string, file: string): YamlSource {
  const unprintable = UNPRINTABLE.exec(text);
  if (unprintable !== null) {
    const before = text.slice(0, unprintable.index);
    const code = unprintable[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    const column = unprintable.index - before.lastIndexOf("\n");
    const message =
      `contains the control character U+${code} (column ${column}), which YAML does not allow: is it a text file?`;
    const line = before.split("\n").length;
    const problems = [{ file, line, path: "", message }];
    return { file, data: undefined, problems, lineOf: () => line };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
    // Explicit YAML 1.1 tags (!!binary, !!set, …) are unknown tags, reported below.
    resolveKnownTags: false,
    // yaml would print its own warnings to the console; here they are problems.
    logLevel: "error",
  });
  const at = (offset: number) => lineCounter.linePos(offset).line;
  const problems = syntaxProblems(doc, file, at);
  let data: unknown;
  if (problems.length === 0) {
    const { deepAt, circular, aliases } = shapeOf(doc);
    if (deepAt !== undefined) {
      const message = `is nested more than ${MAX_YAML_DEPTH} levels deep: is it a sites file?`;
      problems.push({ file, line: at(deepAt), path: "", message });
    } else if (circular !== undefined) {
      const message =
        `refers to *${circular.name} inside &${circular.name} itself: the value would contain itself`;
      problems.push({ file, line: at(circular.offset), path: "", message });
    } else {
      try {
        data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      } catch (error) {
        problems.push(dataProblem(error, aliases, file, at));
      }
    }
  }

  function lineOf(path: KeyPath): number | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const offset = rangeStart(doc.getIn(path.slice(0, depth), true));
      if (offset !== undefined) return at(offset);
    }
    return undefined;
  }

  return { file, data, problems, lineOf };
}

/** The parser's errors and warnings (unknown tags and directives are not ignored), deduplicated. */
function syntaxProblems(doc: Document.Parsed, file: string, at: LineAt): ConfigProblem[] {
  const problems = new Map<string, ConfigProblem>();
  for (const error of [...doc.errors, ...doc.warnings]) {
    const problem = { file, line: at(error.pos[0]), path: "", message: syntaxMessage(error) };
    problems.set(`${problem.line}\0${problem.message}`, problem);
  }
  const { version, explicit } = doc.directives?.yaml ?? { version: "1.2", explicit: false };
  if (explicit && version !== "1.2") {
    // YAML 1.1 reads `no` as false and merges `<<` keys: not what the file seems to say.
    const message = `declares YAML ${version} (%YAML): a sites file is YAML 1.2; remove the line`;
    problems.set("%YAML", { file, line: 1, path: "", message });
  }
  return [...problems.values()].slice(0, MAX_SYNTAX_PROBLEMS);
}

function syntaxMessage(error: { readonly code: string; readonly message: string }): string {
  switch (error.code) {
    case "RESOURCE_EXHAUSTION":
      return "is nested too deeply to be read: is it a sites file?";
    case "MULTIPLE_DOCS":
      return "holds more than one YAML document (a second ---): a sites file is one document";
    case "TAG_RESOLVE_FAILED": {
      const tag = /^Unresolved tag: (\S+)/.exec(error.message)?.[1] ?? "a tag";
      const shown = tag.replace(/^tag:yaml\.org,2002:/, "!!");
      return `uses the tag ${shown}, which a sites file does not support: remove it`;
    }
    default:
      return `is not valid YAML: ${firstLine(error.message)}`;
  }
}

type Alias = { readonly name: string; readonly offset: number };
type LineAt = (offset: number) => number;

/** The first node deeper than {@link MAX_YAML_DEPTH}, an alias inside its own anchor, and every alias. */
function shapeOf(doc: Document.Parsed): { deepAt?: number; circular?: Alias; aliases: Alias[] } {
  const aliases: Alias[] = [];
  // Iterative: the input decides the depth, not the call stack. Each carries the anchors around it.
  const stack: [unknown, number, readonly string[]][] = [[doc.contents, 1, []]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [node, depth, around] = next;
    const children = isMap(node)
      ? node.items.flatMap((pair) => [pair.key, pair.value])
      : isSeq(node)
      ? node.items
      : [];
    if (children.length > 0 && depth > MAX_YAML_DEPTH) {
      const deepAt = rangeStart(node);
      if (deepAt !== undefined) return { deepAt, aliases };
    }
    if (isAlias(node)) {
      const alias = { name: node.source, offset: rangeStart(node) ?? 0 };
      if (around.includes(alias.name)) return { circular: alias, aliases };
      aliases.push(alias);
    }
    const anchor = isNode(node) ? node.anchor : undefined;
    const inside = anchor === undefined ? around : [...around, anchor];
    for (const child of children) stack.push([child, depth + 1, inside]);
  }
  return { aliases };
}

function dataProblem(error: unknown, aliases: Alias[], file: string, at: LineAt): ConfigProblem {
  const text = error instanceof Error ? error.message : String(error);
  const unresolved = /^Unresolved alias.*: (.+)$/.exec(text)?.[1];
  const alias = unresolved === undefined
    ? aliases.toSorted((a, b) => a.offset - b.offset)[0]
    : aliases.find((a) => a.name === unresolved);
  const message = unresolved !== undefined
    ? `refers to *${unresolved}, but no &${unresolved} comes before it`
    : /alias count/i.test(text)
    ? `expands its aliases (*name) more than ${MAX_ALIAS_COUNT} times: write the values out instead`
    : `cannot be read as data: ${firstLine(text)}`;
  const where = { file, path: "", message };
  return alias === undefined ? where : { ...where, line: at(alias.offset) };
}

function rangeStart(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}

/** A key path as a reader writes it: `sites[2].url`; `""` for the root. */
export function formatKeyPath(path: KeyPath): string {
  let text = "";
  for (const key of path) {
    text += typeof key === "number" ? `[${key}]` : text === "" ? String(key) : `.${String(key)}`;
  }
  return text;
}
