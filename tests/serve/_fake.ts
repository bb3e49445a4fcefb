/**
 * A fake of `monitor serve`'s reads and a handler over it, for tests that need no database.
 *
 * @module
 */
import type { SiteSummary } from "../../src/db/reads.ts";
import { SILENT } from "../../src/log.ts";
import { createMetrics } from "../../src/metrics.ts";
import { serveHandler, type ServeOptions } from "../../src/serve/app.ts";
import type { ServeReads } from "../../src/serve/source.ts";

export const NOW = new Date("2026-12-06T10:30:00Z");

/** A site whose every text is hostile. */
export const HOSTILE: SiteSummary = {
  siteId: "evil",
  name: `<script>alert("x")</script> 'q' \u202Egnp.exe`,
  url: "https://secret.example/private/path",
  regions: [{
    region: "eu",
    checkedAt: new Date("2026-12-06T10:29:00Z"),
    up: false,
    statusCode: 500,
    responseTimeMs: 12,
    errorKind: "<img src=x onerror=alert(1)>",
  }],
  uptime: { "24h": 0.5, "7d": 0.9, "30d": 0.99, "90d": 0.999 },
  responseTimeMsP50: 10,
  responseTimeMsP95: 20,
};

/** Reads that answer with `sites` and nothing else; records each call. */
export function fakeReads(sites: readonly SiteSummary[] = [HOSTILE]) {
  const calls: { name: string; options: unknown }[] = [];
  const reads: ServeReads = {
    sites(options) {
      calls.push({ name: "sites", options });
      return Promise.resolve(
        sites.filter((s) => s.siteId > (options.after ?? "")).slice(0, options.limit),
      );
    },
    site(siteId) {
      calls.push({ name: "site", options: siteId });
      return Promise.resolve(sites.find((s) => s.siteId === siteId));
    },
    shown(siteId) {
      calls.push({ name: "shown", options: siteId });
      return Promise.resolve(sites.some((s) => s.siteId === siteId));
    },
    checks(options) {
      calls.push({ name: "checks", options });
      return Promise.resolve([]);
    },
    uptime(options) {
      calls.push({ name: "uptime", options });
      return Promise.resolve([]);
    },
    days(options) {
      calls.push({ name: "days", options });
      return Promise.resolve([]);
    },
    incidents(options) {
      calls.push({ name: "incidents", options });
      return Promise.resolve([]);
    },
  };
  return { reads, calls };
}

/** A handler over `reads`, with its other options overridable. */
export function fakeHandler(reads: ServeReads, options: Partial<ServeOptions> = {}) {
  return serveHandler({
    reads,
    now: () => NOW,
    showUrls: false,
    apiToken: null,
    metrics: createMetrics(),
    health: () => Promise.resolve({ database: "ok" }),
    log: SILENT,
    ...options,
  });
}
