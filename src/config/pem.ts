/**
 * Certificate and key files named by settings, and the certificates of a sites file's CA file.
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

/**
 * The start of a PEM private key, however labelled: `PRIVATE KEY`, `RSA PRIVATE KEY`,
 * `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, `OPENSSH PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`, and
 * SSH2's four-dash `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`.
 */
const PRIVATE_KEY = /-{4,5} ?BEGIN [^\n-]*PRIVATE KEY/i;

/** A PEM certificate: base64 between its two lines (RFC 7468). */
const CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----/g;

/**
 * The certificates of a CA file, and nothing else of it: the text a site's `ca_file` puts on the
 * sites topic (for every checker to read, kept for good) and a checker verifies with. A file with
 * a private key in it (a key and certificate bundle, as a server uses) is refused: it is the wrong
 * file, and the key is a secret.
 *
 * @param text The file's text.
 * @returns Its certificates, PEM, one after the other; or what is wrong with it (no certificate,
 *   or a private key), to follow the file's name in a message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { caCertificates } from "./pem.ts";
 * const certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
 * assert.deepEqual(caCertificates(`# the CA\n${certificate}\n`), { pem: `${certificate}\n` });
 * const key = "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n";
 * const bundle = caCertificates(`${key}${certificate}`);
 * assert.ok("problem" in bundle && bundle.problem.startsWith("holds a private key"));
 * ```
 */
export function caCertificates(
  text: string,
): { readonly pem: string } | { readonly problem: string } {
  if (PRIVATE_KEY.test(text)) {
    return {
      problem:
        "holds a private key: a CA file must hold certificates only (what it holds goes to every checker); name the CA certificate, not a key and certificate bundle",
    };
  }
  const certificates = text.match(CERTIFICATE);
  if (certificates === null) return { problem: "is not a PEM certificate file" };
  return { pem: `${certificates.join("\n")}\n` };
}
