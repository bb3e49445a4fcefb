/**
 * Benchmark: can one `monitor produce` process keep to the plan with thousands of sites?
 *
 *   deno task bench:schedule [--sites 2000] [--seconds 30] [--concurrency 200]
 *
 * Runs the scheduler with N sites on a 10 s interval against a loopback target (20 ms per answer)
 * and prints checks done relative to checks due, the lag of each check's start behind its plan
 * (p50, p99, max), and resident memory before and after.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { checkSite } from "../../src/check/check_site.ts";
import type { SiteConfig } from "../../src/config/sites.ts";
import { parseSites } from "../../src/sites/file.ts";
import { startScheduler } from "../../src/schedule/scheduler.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sites: { type: "string", default: "2000" },
    seconds: { type: "string", default: "30" },
    concurrency: { type: "string", default: "200" },
  },
});
const siteCount = Number(values.sites);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

const target = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-net", "--allow-env", new URL("target.ts", import.meta.url).pathname],
  stdout: "piped",
}).spawn();
const reader = target.stdout.pipeThrough(new TextDecoderStream()).getReader();
const port = Number((await reader.read()).value?.trim());
const url = `http://127.0.0.1:${port}/`;

function sitesYaml(count: number, interval: string): string {
  const lines = ["sites:"];
  for (let i = 0; i < count; i++) {
    lines.push(`  - id: site-${i}`, `    url: ${url}?site=${i}`, `    interval: ${interval}`);
    lines.push(`    pattern: "status: ok"`);
  }
  return lines.join("\n");
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

try {
  const many: readonly SiteConfig[] = parseSites(sitesYaml(siteCount, "10s"), "bench");
  const lags: number[] = [];
  const planned = new Map<string, number>();
  const startMs = performance.now();
  many.forEach((site, i) => planned.set(site.id, startMs + (i / many.length) * site.intervalMs));
  let failures = 0;
  const rssBefore = Deno.memoryUsage().rss;
  const scheduler = startScheduler(many, async (site) => {
    const plannedMs = planned.get(site.id)!;
    lags.push(performance.now() - plannedMs);
    planned.set(site.id, plannedMs + site.intervalMs);
    const result = await checkSite(site);
    if (!result.up) failures++;
  }, { concurrency });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await scheduler.stop();
  const rssAfter = Deno.memoryUsage().rss;
  const due = Math.floor(seconds / 10) * siteCount;
  const stats = scheduler.stats();
  lags.sort((a, b) => a - b);
  console.log(
    `scheduler: ${siteCount} sites every 10 s for ${seconds} s, concurrency ${concurrency}:`,
  );
  console.log(
    `  checks started ${stats.started} of ~${due} due = ${
      (stats.started / due).toFixed(2)
    } x due;` +
      ` skipped ${stats.skipped}; failed ${failures}`,
  );
  console.log(
    `  start lag behind plan: p50 ${percentile(lags, 0.5).toFixed(1)} ms, p99 ${
      percentile(lags, 0.99).toFixed(1)
    } ms, max ${lags.at(-1)?.toFixed(1)} ms (= ${
      ((lags.at(-1) ?? 0) / 10_000).toFixed(3)
    } x interval)`,
  );
  console.log(
    `  memory: rss ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${
      (rssAfter / 2 ** 20).toFixed(0)
    } MiB after`,
  );
} finally {
  target.kill("SIGTERM");
  await target.status;
}
