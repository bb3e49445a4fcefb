/**
 * Site configurations for tests, built through the real parser so they carry real defaults.
 *
 * @module
 */
import type { SiteConfig } from "../../src/config/sites.ts";
import { parseSites } from "../../src/sites/file.ts";

/** One site with the given URL and optional keys (YAML values, already quoted where needed). */
export function siteFor(url: string, extra: Record<string, string> = {}): SiteConfig {
  // Values are YAML scalars: "false" is a boolean, "300ms" a string.
  const lines = Object.entries(extra).map(([key, value]) =>
    `    ${key}: ${/^(true|false|\d+)$/.test(value) ? value : JSON.stringify(value)}`
  );
  const text = ["sites:", "  - id: test-site", `    url: "${url}"`, ...lines].join("\n");
  const [site] = parseSites(text, "test.yaml");
  return site!;
}
