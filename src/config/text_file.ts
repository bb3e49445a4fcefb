/**
 * Files read with bounds: a wrong path (a binary, a device, a huge log) is an error that says so.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { printable } from "../text.ts";

/**
 * Reads a UTF-8 text file of at most `maxBytes` (whole MiB; a byte order mark is dropped); a
 * ConfigError when it cannot be read, is larger, or is not UTF-8 (with the line), asking `hint`,
 * e.g. "is it a sites file?".
 */
export async function readTextFileAtMost(
  path: string,
  maxBytes: number,
  hint: string,
): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readAtMost(path, maxBytes);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "does not exist" : osReason(error);
    throw new ConfigError([{ file: path, path: "", message: `cannot be read: ${reason}` }]);
  }
  if (bytes.length > maxBytes) {
    const message = `is larger than ${maxBytes / 1024 / 1024} MiB: ${hint}`;
    throw new ConfigError([{ file: path, path: "", message }]);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const message = `is not UTF-8 text: save it as UTF-8 (${hint})`;
    throw new ConfigError([{ file: path, line: firstInvalidLine(bytes), path: "", message }]);
  }
}

/** Up to one byte more than `limit`: enough to tell that a device or a pipe holds too much. */
async function readAtMost(path: string, limit: number): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const bytes = new Uint8Array(limit + 1);
  let length = 0;
  while (length < bytes.length) {
    const read = await file.read(bytes.subarray(length));
    if (read === null) break;
    length += read;
  }
  return bytes.subarray(0, length);
}

// A newline byte is never part of a multi-byte character: lines can be checked one by one.
function firstInvalidLine(bytes: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  for (let start = 0; start < bytes.length; line++) {
    const end = bytes.indexOf(0x0a, start);
    const stop = end < 0 ? bytes.length : end;
    try {
      decoder.decode(bytes.subarray(start, stop));
    } catch {
      return line;
    }
    start = stop + 1;
  }
  return line;
}

/**
 * Reads a regular file of at most `maxBytes` (not `/dev/zero` by mistake); an Error's message
 * completes `"path" …`, e.g. "does not exist", and `tooLarge` says so for a larger file.
 */
export function readSmallFile(
  path: string,
  maxBytes = 1024 * 1024,
  tooLarge = (_bytes: number) => "is larger than 1 MiB: it is not a PEM file",
): string {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    throw new Error(
      error instanceof Deno.errors.NotFound
        ? "does not exist"
        : `cannot be read: ${osReason(error)}`,
    );
  }
  if (!info.isFile) throw new Error("is not a file");
  if (info.size > maxBytes) throw new Error(tooLarge(info.size));
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new Error(`cannot be read: ${osReason(error)}`);
  }
}

/** Deno's message without the `(os error 13): stat '…'` that repeats the path. */
export function osReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return printable(message.replace(/ \(os error \d+\).*$/s, ""));
}
