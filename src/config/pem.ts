/**
 * Certificate and key files named by settings, and the certificates of a sites file's CA file.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** Reads a PEM file that `setting` names; a UsageError names both when it cannot. */
export function readPem(setting: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new UsageError(`${setting} "${path}" cannot be read: ${(error as Error).message}`);
  }
}

/** A PEM private key however labelled, SSH2's four-dash form too. */
const PRIVATE_KEY = /-{4,5} ?BEGIN [^\n-]*PRIVATE KEY/i;

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----/g;

/**
 * The certificates of a CA file and nothing else: what a site's `ca_file` puts on the sites topic,
 * for every checker, for good. A private key in it is refused (wrong file, and a secret); the
 * problem follows the file's name in a message.
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
