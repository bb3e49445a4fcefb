import assert from "node:assert/strict";
import { createMetrics } from "../../src/metrics.ts";
import { fakeHandler, fakeReads, HOSTILE } from "./_fake.ts";

const get = (path: string, headers: Record<string, string> = {}) =>
  new Request(`http://127.0.0.1${path}`, { headers });

Deno.test("serve: every text from the database is escaped on the status page, the site page and badges", async () => {
  const handle = fakeHandler(fakeReads().reads);
  for (const path of ["/", "/sites/evil", "/badge/evil/status.svg"]) {
    const response = await handle(get(path));
    assert.equal(response.status, 200, path);
    const text = await response.text();
    assert.ok(!text.includes("<script>alert"), `${path} holds a raw <script>`);
    assert.ok(!text.includes("<img src=x"), `${path} holds a raw <img>`);
    assert.ok(!text.includes("\u202E"), `${path} holds a bidi override`);
    if (path !== "/badge/evil/status.svg") {
      assert.ok(text.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#39;q&#39;"));
    }
  }
});

Deno.test("serve: a site's URL and error messages are not shown unless SERVE_SHOW_URLS", async () => {
  for (const showUrls of [false, true]) {
    const handle = fakeHandler(fakeReads().reads, { showUrls });
    const texts = await Promise.all(
      ["/", "/sites/evil", "/api/v1/sites", "/api/v1/sites/evil"].map(async (path) =>
        await (await handle(get(path))).text()
      ),
    );
    assert.equal(texts.slice(0, 2).some((t) => t.includes("secret.example")), false);
    assert.equal(texts.slice(2).every((t) => t.includes("secret.example")), showUrls);
  }
});

Deno.test("serve: pages carry a CSP without script, nosniff, no framing and no referrer", async () => {
  const response = await fakeHandler(fakeReads().reads)(get("/"));
  const csp = response.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/=]+'/);
  assert.doesNotMatch(csp, /script-src|unsafe-inline/);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(response.headers.get("referrer-policy"), "no-referrer");
  const text = await response.text();
  assert.doesNotMatch(text, /<script/i);
  assert.match(text, /prefers-color-scheme:dark/);
  assert.match(text, /name="viewport"/);
  // The stylesheet's hash is the one the policy allows.
  const style = /<style>([^]*?)<\/style>/.exec(text)![1]!;
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(style)),
  );
  assert.ok(csp.includes(btoa(String.fromCharCode(...digest))));
});

Deno.test("serve: an unchanged answer is 304 for its ETag, with Cache-Control", async () => {
  const handle = fakeHandler(fakeReads().reads);
  for (const path of ["/", "/api/v1/sites", "/badge/evil/uptime.svg?window=7d"]) {
    const first = await handle(get(path));
    await first.body?.cancel();
    const etag = first.headers.get("etag");
    assert.ok(etag, path);
    assert.match(first.headers.get("cache-control") ?? "", /^public, max-age=\d+$/);
    const again = await handle(get(path, { "if-none-match": etag }));
    assert.equal(again.status, 304, path);
    assert.equal(await again.text(), "");
  }
});

Deno.test("serve: bad parameters are 400 with a message naming them, never 500", async () => {
  const handle = fakeHandler(fakeReads().reads);
  const cases: [string, RegExp][] = [
    ["/api/v1/sites?limit=0", /"limit": must be an integer from 1 to 200: current value is "0"/],
    ["/api/v1/sites?limit=abc", /"limit"/],
    ["/api/v1/sites?limit=201", /"limit"/],
    ["/api/v1/sites?nope=1", /Unknown query parameter "nope"/],
    ["/api/v1/sites/evil/checks?from=yesterday", /"from": must be an ISO 8601 time/],
    ["/api/v1/sites/evil/checks?cursor=AAAA", /"cursor"/],
    ["/api/v1/sites/evil/checks?cursor=%3Cx%3E", /"cursor"/],
    [
      "/api/v1/sites/evil/checks?from=2026-12-06T00:00:00Z&to=2026-12-01T00:00:00Z",
      /"from" must be before "to"/,
    ],
    ["/api/v1/sites/evil/checks?from=2025-01-01T00:00:00Z", /at most 31 days apart/],
    ["/api/v1/sites/evil/uptime?bucket=week", /"bucket": must be hour or day/],
    ["/api/v1/sites/evil/uptime?region=%00", /"region"/],
    ["/api/v1/incidents?state=closed", /"state": must be open or all/],
    ["/badge/evil/uptime.svg?window=1y", /"window"/],
    ["/sites/evil?window=1y", /"window"/],
    ["/sites/%E0%A4%A", /percent-encoding/],
  ];
  for (const [path, message] of cases) {
    const response = await handle(get(path));
    assert.equal(response.status, 400, path);
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.match((await response.json()).error, message, path);
  }
});

Deno.test("serve: unknown sites and paths are 404, other methods 405", async () => {
  const handle = fakeHandler(fakeReads().reads);
  for (const path of ["/api/v1/sites/none", "/sites/none", "/badge/none/status.svg", "/x"]) {
    const response = await handle(get(path));
    assert.equal(response.status, 404, path);
    await response.body?.cancel();
  }
  const post = await handle(new Request("http://127.0.0.1/api/v1/sites", { method: "POST" }));
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
});

Deno.test("serve: with SERVE_API_TOKEN the API needs the token, pages and badges do not", async () => {
  const handle = fakeHandler(fakeReads().reads, { apiToken: "0123456789abcdef-token" });
  const api = async (headers: Record<string, string>) => {
    const response = await handle(get("/api/v1/sites", headers));
    await response.body?.cancel();
    return response;
  };
  assert.equal((await api({})).status, 401);
  assert.equal((await api({ authorization: "Bearer wrong" })).status, 401);
  assert.equal((await api({ authorization: "Bearer 0123456789abcdef-toke" })).status, 401);
  const ok = await api({ authorization: "Bearer 0123456789abcdef-token" });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get("cache-control") ?? "", /^private/);
  const metrics = await handle(get("/metrics"));
  assert.equal(metrics.status, 401);
  await metrics.body?.cancel();
  for (const path of ["/", "/badge/evil/status.svg"]) {
    const response = await handle(get(path));
    assert.equal(response.status, 200, path);
    await response.body?.cancel();
  }
});

Deno.test("serve: a failing database read is 503 and counted, the message names no query", async () => {
  const { reads } = fakeReads();
  const metrics = createMetrics();
  const handle = fakeHandler({
    ...reads,
    sites: () => Promise.reject(new Error("SELECT secret FROM x")),
  }, { metrics });
  const response = await handle(get("/api/v1/sites"));
  assert.equal(response.status, 503);
  assert.doesNotMatch(await response.text(), /SELECT/);
  assert.match(metrics.registry.metrics(), /^monitor_serve_database_errors_total 1$/m);
  assert.match(
    metrics.registry.metrics(),
    /^monitor_serve_requests_total\{route="\/api\/v1\/sites",status="503"\} 1$/m,
  );
});

Deno.test("serve: the OpenAPI document describes every API path and the parameters the handlers check", async () => {
  const response = await fakeHandler(fakeReads().reads)(get("/api/v1/openapi.json"));
  const document = await response.json();
  assert.equal(document.openapi, "3.1.0");
  assert.deepEqual(Object.keys(document.paths).toSorted(), [
    "/api/v1/incidents",
    "/api/v1/sites",
    "/api/v1/sites/{id}",
    "/api/v1/sites/{id}/checks",
    "/api/v1/sites/{id}/uptime",
  ]);
  const checks = document.paths["/api/v1/sites/{id}/checks"].get.parameters
    .map((p: { name: string }) => p.name);
  assert.deepEqual(checks, ["id", "from", "to", "region", "limit", "cursor"]);
  const text = JSON.stringify(document);
  for (const ref of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
    assert.ok(ref[1]! in document.components.schemas, ref[1]);
  }
});

Deno.test("serve: /api/v1/sites pages by id, next is the last id of a full page", async () => {
  const sites = ["a", "b", "c"].map((siteId) => ({ ...HOSTILE, siteId, name: siteId }));
  const handle = fakeHandler(fakeReads(sites).reads);
  const first = await (await handle(get("/api/v1/sites?limit=2"))).json();
  assert.deepEqual(first.sites.map((s: { id: string }) => s.id), ["a", "b"]);
  assert.equal(first.next, "b");
  const second = await (await handle(get(`/api/v1/sites?limit=2&after=${first.next}`))).json();
  assert.deepEqual(second.sites.map((s: { id: string }) => s.id), ["c"]);
  assert.equal(second.next, null);
  assert.equal(first.sites[0].status, "down");
});

Deno.test("serve: more than 4 requests reading at once get 503 with Retry-After; health, metrics and static answers do not", async () => {
  const { reads } = fakeReads();
  let release = () => {};
  const released = new Promise<void>((resolve) => release = resolve);
  let started = 0;
  const blocked: typeof reads = {
    ...reads,
    sites: async (options) => {
      started++;
      await released;
      return reads.sites(options);
    },
  };
  const handle = fakeHandler(blocked);
  const waiting = Array.from({ length: 4 }, () => handle(get("/api/v1/sites")));
  assert.equal(started, 4);
  const refused = await handle(get("/?after=a"));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.match((await refused.json()).error, /Too many requests at once/);
  assert.equal(started, 4);
  for (const path of ["/healthz", "/metrics", "/favicon.svg", "/api/v1/openapi.json"]) {
    const response = await handle(get(path));
    assert.equal(response.status, 200, path);
    await response.body?.cancel();
  }
  release();
  for (const response of await Promise.all(waiting)) {
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const again = await handle(get("/?after=a"));
  assert.equal(again.status, 200);
  await again.body?.cancel();
});
