/**
 * The files that settings name (CA certificates, client certificates and keys): each must be a
 * readable PEM file, checked before anything connects, so that a wrong path is one more problem
 * in the list rather than a failure halfway through a start.
 *
 * @module
 */
import type { ConfigProblem } from "../errors.ts";
import { NO_CONTROL_CHARACTERS, printable } from "../text.ts";
import { rootCertFile } from "./database_tls.ts";
import { quoted } from "../text.ts";
import { SETTING_NAMES, SETTINGS, settingText } from "./settings_schema.ts";

/** The environment, e.g. `Deno.env.toObject()`. */
type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Every file that settings name (and `sslrootcert` in DATABASE_URL) must be a readable PEM file.
 *
 * @param env The environment.
 * @param readFile Reads a file or throws an error whose message says why not.
 * @returns One problem per file that is not, with the setting as its path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileProblems, readSettingFile } from "./setting_files.ts";
 * assert.deepEqual(fileProblems({ DATABASE_CA_FILE: "no-such.pem" }, readSettingFile), [
 *   { file: "environment", path: "DATABASE_CA_FILE", message: '"no-such.pem" does not exist' },
 * ]);
 * ```
 */
export function fileProblems(
  env: Environment,
  readFile: (path: string) => string,
): ConfigProblem[] {
  const files: [string, string][] = SETTING_NAMES
    .filter((name) => SETTINGS[name].kind.type === "file" && settingText(env, name) !== "")
    .map((name) => [name, settingText(env, name)]);
  try {
    const rootCert = rootCertFile(settingText(env, "DATABASE_URL"));
    if (rootCert !== undefined) files.push(["DATABASE_URL's sslrootcert", rootCert]);
  } catch {
    // A malformed URI is a problem of its own.
  }
  // A path with control characters is a problem of its own, and no file's name.
  return files.filter(([, path]) => NO_CONTROL_CHARACTERS.test(path)).flatMap(([setting, path]) => {
    let content: string;
    try {
      content = readFile(path);
    } catch (error) {
      return [{ file: "environment", path: setting, message: `${quoted(path)} ${reason(error)}` }];
    }
    return content.includes("-----BEGIN ") ? [] : [{
      file: "environment",
      path: setting,
      message: `${quoted(path)} is not a PEM file: it has no "-----BEGIN" line`,
    }];
  });
}

/** Larger than any certificate chain or key: a setting that names something else is refused. */
const MAX_PEM_BYTES = 1024 * 1024;

/**
 * Reads a file named by a setting, for `readSettings()`'s `readFile`: only a regular file
 * of at most 1 MiB (not `/dev/zero` by mistake).
 *
 * @param path The file.
 * @returns Its text.
 * @throws {Error} Whose message completes `"path" …`, e.g. "does not exist".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSettingFile } from "./setting_files.ts";
 * assert.throws(() => readSettingFile("no-such.pem"), /^Error: does not exist$/);
 * ```
 */
export function readSettingFile(path: string): string {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    throw new Error(
      error instanceof Deno.errors.NotFound ? "does not exist" : `cannot be read: ${reason(error)}`,
    );
  }
  if (!info.isFile) throw new Error("is not a file");
  if (info.size > MAX_PEM_BYTES) throw new Error("is larger than 1 MiB: it is not a PEM file");
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new Error(`cannot be read: ${reason(error)}`);
  }
}

/** Deno's message without the `(os error 13): stat '…'` that repeats the path. */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return printable(message.replace(/ \(os error \d+\).*$/s, ""));
}
