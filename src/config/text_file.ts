/**
 * Files read with bounds: a wrong path (a binary, a device, a huge log) is an error that says so.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { printable } from "../text.ts";

/**
 * Reads a UTF-8 text file of at most `maxBytes` (whole MiB), dropping a byte order mark; a
 * ConfigError says why it cannot, asking `hint` (e.g. "is it a sites file?").
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
    const reason = error instanceof Deno.errors.NotFound
      ? "does not exist"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : osReason(error);
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

// Valid UTF-8 (a byte order mark too) encodes back to itself: the first byte that does not is bad.
function firstInvalidLine(bytes: Uint8Array): number {
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  const again = new TextEncoder().encode(text);
  const at = bytes.findIndex((byte, index) => byte !== again[index]);
  return bytes.subarray(0, at).filter((byte) => byte === 0x0a).length + 1;
}

/** Reads a regular file of at most `maxBytes`; an Error's message completes `"path" …`. */
export function readSmallFile(
  path: string,
  maxBytes = 1024 * 1024,
  tooLarge = (_bytes: number) => "is larger than 1 MiB: it is not a PEM file",
): string {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Error("does not exist");
    throw new Error(`cannot be read: ${osReason(error)}`);
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
