/**
 * A fake of `monitor serve`'s reads and a handler over it, for tests that need no database.
 *
 * @module
 */
import type { ServeReads, SiteSummary } from "../../src/db/reads.ts";
import { SILENT } from "../../src/log.ts";
import { createMetrics } from "../../src/metrics.ts";
import { serveHandler, type ServeOptions } from "../../src/serve/app.ts";

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

/** Reads that answer with `sites` and nothing else. */
export function fakeReads(sites: readonly SiteSummary[] = [HOSTILE]): { reads: ServeReads } {
  const reads: ServeReads = {
    sites({ after = "", only, limit }) {
      const found = sites.filter((s) =>
        s.siteId > after && (only === undefined || s.siteId === only)
      );
      return Promise.resolve(found.slice(0, limit));
    },
    shown: (siteId) => Promise.resolve(sites.some((s) => s.siteId === siteId)),
    checks: () => Promise.resolve([]),
    uptime: () => Promise.resolve([]),
    days: () => Promise.resolve([]),
    incidents: () => Promise.resolve([]),
  };
  return { reads };
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
