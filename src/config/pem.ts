/**
 * Certificate and key files named by settings.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/**
 * Reads a PEM file named by a setting.
 *
 * @param setting The environment variable that named the file, for the message.
 * @param path The file.
 * @returns Its text.
 * @throws {UsageError} Naming the setting and the file, when it cannot be read.
 *
 * @example
 * ```ts ignore
 * import { readPem } from "./pem.ts";
 * const ca = readPem("KAFKA_SSL_CA_FILE", "ca.pem");
 * ```
 */
export function readPem(setting: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new UsageError(`${setting} "${path}" cannot be read: ${(error as Error).message}`);
  }
}
