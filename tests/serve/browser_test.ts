/**
 * `monitor serve` in a real browser: Debian's chromium driven by puppeteer-core loads the status
 * page and a site's page over rows that a real pipeline stored (`produce --once` checking a local
 * target, then `consume`), and checks what a person sees, that nothing fails in the console, and
 * that axe-core finds no serious or critical accessibility violation.
 *
 * `UPDATE_SCREENSHOT=1` also writes the status page to docs/status-page.png for the README.
 *
 * @module
 */
import assert from "node:assert/strict";
import axe from "axe-core";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import type { Sql } from "../../src/db/client.ts";
import { storeBatch } from "../../src/db/results.ts";
import { percent } from "../../src/serve/svg.ts";
import { monitor, servingUrl } from "../_helpers/cli.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import { asMessages, HTTPS_CONNECTION_DETAILS, makeResult } from "../_helpers/results.ts";
import { testEnv, waitFor, withDatabase } from "../_helpers/services.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = new URL("../../docs/status-page.png", import.meta.url);
const HOUR_MS = 3_600_000;
const SITES = [
  { id: "api", name: "Public API", path: "/code/503" },
  { id: "shop", name: "Shop", path: "/text/welcome" },
  { id: "docs", name: "Documentation", path: "/text/docs" },
];

/** The browser, or a failure saying how to install it: a missing browser must not pass. */
async function launch(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `Cannot run the browser test: "${CHROMIUM}" is missing: install it with "apt-get install --no-install-recommends chromium" (.ci/run does)`,
    );
  }
  // Root in containers: chromium's sandbox needs user namespaces it does not get there.
  return await puppeteer.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/**
 * 90 days of hourly checks from two regions through the real writer: the API down now and then,
 * the shop out for three hours 20 days ago, the documentation once.
 */
async function storeHistory(sql: Sql, now: Date) {
  const results = [];
  for (let hoursAgo = 2; hoursAgo < 90 * 24; hoursAgo++) {
    for (const [r, region] of ["eu", "us"].entries()) {
      for (const [s, site] of SITES.entries()) {
        const down = [
          hoursAgo % 97 === r * 5,
          hoursAgo >= 480 && hoursAgo < 483,
          hoursAgo === 1000 && r === 0,
        ][s];
        results.push(makeResult({
          siteId: site.id,
          siteName: site.name,
          region,
          checkedAt: new Date(now.getTime() - hoursAgo * HOUR_MS).toISOString(),
          responseTimeMs: 40 + (hoursAgo % 17) * 3 + s * 20,
          ...HTTPS_CONNECTION_DETAILS,
          up: !down,
          statusCode: down ? 503 : 200,
          error: down ? { kind: "unexpected_status", message: "HTTP 503" } : null,
        }));
      }
    }
  }
  for (let i = 0; i < results.length; i += 2000) {
    await storeBatch(sql, asMessages(results.slice(i, i + 2000), i));
  }
}

/** The sites file, one round of `produce --once` per region, then `consume` until all are stored. */
async function runPipeline(
  sql: Sql,
  env: Record<string, string>,
  targetUrl: (p: string) => string,
) {
  const sitesFile = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      sitesFile,
      `sites:\n${
        SITES.map((s) => `  - id: ${s.id}\n    name: ${s.name}\n    url: ${targetUrl(s.path)}\n`)
          .join("")
      }`,
    );
    for (const region of ["eu", "us"]) {
      const produce = monitor(
        ["produce", "--config", sitesFile, "--once", "--region", region],
        env,
      );
      assert.equal(await produce.code, 0, produce.err());
    }
  } finally {
    await Deno.remove(sitesFile);
  }
  const consume = monitor(["consume"], env);
  try {
    await waitFor("the pipeline's checks stored", async () => {
      const [{ n }] = await sql<[{ n: number }]>`
        SELECT count(*)::int AS n FROM checks WHERE checked_at > now() - interval '10 minutes'`;
      return n >= SITES.length * 2 || undefined;
    });
  } finally {
    consume.stop();
    assert.equal(await consume.code, 0, consume.err());
  }
}

/** Starts `monitor serve` on a free port; resolves with its address once it logs it. */
async function startServe(env: Record<string, string>) {
  const serve = monitor(["serve"], {
    ...env,
    SERVE_PORT: "0",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
  });
  try {
    const url = await waitFor("monitor serve to listen", () => servingUrl(serve.err())?.href);
    return { serve, url };
  } catch (error) {
    serve.stop();
    await serve.code;
    throw new Error(`${(error as Error).message}; its log:\n${serve.err()}`);
  }
}

/** Opens `url` in a new tab that records every console error, page error and failed request. */
async function open(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error}`));
  page.on("requestfailed", (request) => problems.push(`failed: ${request.url()}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
  });
  await page.setViewport({ width: 1000, height: 800 });
  const response = await page.goto(url, { waitUntil: "load" });
  assert.equal(response?.status(), 200, url);
  return { page, problems };
}

/** axe-core's serious and critical violations of the page, as "rule: target" lines. */
async function accessibilityViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP (no script) does not govern.
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const { axe, document } = globalThis as any;
    const result = await axe.run(document);
    return result.violations as {
      id: string;
      impact: string;
      nodes: { target: string[] }[];
    }[];
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** Each window: that many whole hours or UTC days before the current one, and the current one. */
const WINDOWS = {
  "24h": [24, "hour"],
  "7d": [7, "day"],
  "30d": [30, "day"],
  "90d": [90, "day"],
} as const;

/** A site's uptime over a window ending at `at`, from the raw checks, as the page prints it. */
async function sqlUptime(
  sql: Sql,
  siteId: string,
  window: keyof typeof WINDOWS,
  at: Date,
): Promise<string> {
  const [n, unit] = WINDOWS[window];
  const [{ uptime }] = await sql<[{ uptime: number | null }]>`
    SELECT (count(*) FILTER (WHERE up))::float8 / nullif(count(*), 0) AS uptime FROM checks
    WHERE site_id = ${siteId} AND checked_at <= ${at}
      AND checked_at >= date_trunc(${unit}, ${at}::timestamptz, 'UTC') - ${n} * ${`1 ${unit}`}::interval`;
  return percent(uptime);
}

Deno.test("serve: a browser shows the pipeline's sites, their uptime as SQL computes it, the open incident and badges, accessibly", async () => {
  await using target = startHttpTarget();
  const env = testEnv();
  await withDatabase(env, async (sql) => {
    await storeHistory(sql, new Date());
    await runPipeline(sql, env, target.url);
    await sql`
      INSERT INTO incidents (incident_id, site_id, kind, severity, regions, opened_at,
        opened_by_check_id, cause_status_code, cause_message)
      VALUES ('api/down/1', 'api', 'down', 'critical', '{eu,us}', now() - interval '42 minutes',
        gen_random_uuid(), 503, 'HTTP 503')`;
    const { serve, url } = await startServe(env);
    const browser = await launch();
    try {
      const { page, problems } = await open(browser, url);
      const seen = await page.$$eval("article.site", (articles) =>
        articles.map((article) => ({
          name: article.querySelector("h3 a")?.textContent,
          state: article.querySelector(".state")?.textContent,
          uptime: Object.fromEntries(
            [...article.querySelectorAll("dl div")].map((
              d,
            ) => [d.querySelector("dt")?.textContent, d.querySelector("dd")?.textContent]),
          ),
          days: article.querySelectorAll("svg.bar rect").length,
        })));
      assert.deepEqual(seen.map((s) => [s.name, s.state]), [
        ["Public API", "Down"],
        ["Documentation", "Up"],
        ["Shop", "Up"],
      ]);
      // The instant the page was rendered at, so SQL computes the same windows.
      const at = new Date(await page.$eval("footer time", (t) => t.getAttribute("datetime")!));
      for (const [i, site] of ["api", "docs", "shop"].entries()) {
        assert.equal(seen[i]?.days, 90);
        for (const window of ["24h", "7d", "30d", "90d"] as const) {
          assert.equal(
            seen[i]?.uptime[window],
            await sqlUptime(sql, site, window, at),
            `${site} ${window}`,
          );
        }
      }
      const incidents = await page.$eval("#incidents + ul", (ul) => ul.textContent);
      assert.match(
        incidents ?? "",
        /Public API: down \(critical, HTTP 503\) in eu, us, .*open for 4\d min/,
      );
      assert.deepEqual(await accessibilityViolations(page), []);
      if (Deno.env.get("UPDATE_SCREENSHOT") === "1") {
        await Deno.mkdir(new URL(".", SCREENSHOT), { recursive: true });
        await Deno.writeFile(SCREENSHOT, await page.screenshot({ fullPage: true }));
      }

      const sitePage = await open(browser, new URL("/sites/api", url).href);
      assert.equal(await sitePage.page.$eval("h1", (h) => h.textContent), "Public APIDown");
      const checks = await sitePage.page.$$eval(
        "tbody tr",
        (rows) => rows.map((row) => [...row.querySelectorAll("td")].map((td) => td.textContent)),
      );
      assert.deepEqual(checks.slice(0, 2).map((c) => [c[1], c[2], c[3]]), [
        ["us", "down", "503"],
        ["eu", "down", "503"],
      ]);
      const badges = await sitePage.page.$$eval("img.badge", (images) =>
        images.map((image) => ({
          alt: image.alt,
          loaded: image.complete && image.naturalWidth > 0,
        })));
      assert.deepEqual(badges, [
        { alt: "status: down", loaded: true },
        { alt: `uptime 30d: ${await sqlUptime(sql, "api", "30d", at)}`, loaded: true },
      ]);
      assert.match(
        await sitePage.page.$eval("#incidents-90d + ul", (ul) => ul.textContent) ?? "",
        /open for/,
      );
      assert.deepEqual(await accessibilityViolations(sitePage.page), []);
      assert.deepEqual([...problems, ...sitePage.problems], []);
    } finally {
      await browser.close();
      serve.stop();
      assert.equal(await serve.code, 0, serve.err());
    }
  });
});
