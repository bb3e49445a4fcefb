/**
 * A site on the sites topic, one message that stands alone: `defaults` merged in, `${NAME}` as
 * written (no secret in Kafka), `ca_file` read into `ca_cert`, no `channels` (docs/sites-topic.md).
 *
 * @module
 */
import { z } from "zod";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { MAX_CA_FILE_BYTES } from "../config/sites.ts";
import { LIMITS, patternShapeSchema } from "../config/sites_schema.ts";
import { formatKeyPath } from "../config/yaml_source.ts";
import { issueLine, jsonLine, NO_CONTROL_CHARACTERS } from "../text.ts";
import { type SitesAsWritten, sitesFileSchema } from "./file.ts";

const SITE_MESSAGE_VERSION = 1 as const;

/** Room for every key at its bound, under a broker's default 1 MB (gzip lets bigger ones in). */
export const MAX_SITE_MESSAGE_BYTES = 1_000_000;

const siteSchema = sitesFileSchema.shape.sites.element.omit({ ca_file: true }).extend({
  // A reference may stand for the host: checkers check the URL once they have resolved it.
  url: z.string({ error: "must be a string" }).min(1)
    .max(LIMITS.maxUrlChars, { error: `must be at most ${LIMITS.maxUrlChars} characters` })
    .regex(NO_CONTROL_CHARACTERS, { error: "must not contain control characters" })
    .refine((url) => url.isWellFormed(), { error: "must not contain a lone UTF-16 surrogate" })
    .describe(
      "The address to request, an absolute http(s) URL once each checker has resolved its ${VAR} references",
    ),
  // Likewise the expression: a checker reports one it cannot use as a config result.
  pattern: patternShapeSchema.describe(
    `A regular expression (RE2 syntax) the body must contain, at most ${LIMITS.maxPatternChars} characters; each checker checks it once it has resolved its \${VAR} references`,
  ).optional(),
  ca_cert: z.string({ error: "must be PEM text" })
    .includes("-----BEGIN CERTIFICATE-----", { error: "must be a PEM certificate" })
    // (Characters, not bytes: PEM is ASCII.)
    .max(MAX_CA_FILE_BYTES, { error: `must be at most ${MAX_CA_FILE_BYTES} characters of PEM` })
    .describe(
      "CA certificate(s) (PEM) to verify the site with instead of the system's: the certificates of the sites file's ca_file (a private key is refused)",
    ).optional(),
});

/** The value of a message on the sites topic, version 1; its key is `site.id`. */
export const siteMessageSchema = z.strictObject({
  version: z.literal(SITE_MESSAGE_VERSION).describe("Message format version"),
  site: siteSchema.describe(
    "The site, the sites file's defaults merged in; ${VAR} references as written",
  ),
}).describe("A site on the sites topic (a tombstone, a message without a value, removes it)");

/** A message on the sites topic. */
export type SiteMessage = z.infer<typeof siteMessageSchema>;

/** A message on the topic that is not a site this version reads, and why. */
export type UnreadableSite = { readonly unreadable: string };

/** The messages of a sites file in its order; a ConfigError for any site checkers would refuse. */
export function siteMessages(written: SitesAsWritten, file: string): SiteMessage[] {
  const problems: ConfigProblem[] = [];
  const messages = written.file.sites.flatMap((_, index) => {
    const parsed = siteMessageSchema.safeParse({
      version: SITE_MESSAGE_VERSION,
      site: mergedSite(written, index),
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = formatKeyPath(["sites", index, ...issue.path.slice(1)]);
        problems.push({ file, path, message: issue.message });
      }
      return [];
    }
    const bytes = new TextEncoder().encode(encodeSiteMessage(parsed.data)).length;
    if (bytes <= MAX_SITE_MESSAGE_BYTES) return [parsed.data];
    const message =
      `would make a message of ${bytes} bytes: a site's message may have at most ${MAX_SITE_MESSAGE_BYTES}`;
    problems.push({ file, path: formatKeyPath(["sites", index]), message });
    return [];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return messages;
}

/** Site number `index` with the defaults merged in, as the sites file merges them. */
function mergedSite(written: SitesAsWritten, index: number): Record<string, unknown> {
  const { ca_file: _, headers: defaultHeaders, alert: defaultAlert, ...shared } =
    written.file.defaults ?? {};
  const { ca_file: _ca, headers, alert, ...own } = written.file.sites[index]!;
  // Read from the site's ca_file, or else the defaults'.
  const caCert = written.sites[index]?.caCert ?? null;
  return {
    ...shared,
    ...own,
    ...((headers ?? defaultHeaders) === undefined
      ? {}
      : { headers: { ...defaultHeaders, ...headers } }),
    ...((alert ?? defaultAlert) === undefined ? {} : { alert: { ...defaultAlert, ...alert } }),
    ...(caCert === null ? {} : { ca_cert: caCert }),
  };
}

/** The value of a site's message: JSON text. */
export function encodeSiteMessage(message: SiteMessage): string {
  return JSON.stringify(message);
}

// Fatal: bytes that are not UTF-8 are not a site, rather than a site with U+FFFD in it.
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Reads the value of a message on the sites topic (not a tombstone); never throws. */
export function decodeSiteMessage(key: string, value: Uint8Array): SiteMessage | UnreadableSite {
  const most = MAX_SITE_MESSAGE_BYTES;
  if (value.length > most) {
    return {
      unreadable: `Message is ${value.length} bytes: a site's message may have at most ${most}`,
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(UTF8.decode(value));
  } catch (error) {
    return { unreadable: `Message is not UTF-8 JSON: ${(error as Error).message}` };
  }
  const version = (data as { version?: unknown } | null)?.version;
  if (version !== SITE_MESSAGE_VERSION) {
    const shown = version === undefined ? "missing" : jsonLine(version);
    return {
      unreadable: `Message version ${shown} is not supported: this monitor reads version 1`,
    };
  }
  const parsed = siteMessageSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(issueLine).join("; ");
    return { unreadable: `Message is not a valid site: ${issues}` };
  }
  const { id } = parsed.data.site;
  if (id === key) return parsed.data;
  return { unreadable: `Message key ${jsonLine(key)} is not its site's id ${jsonLine(id)}` };
}
