import assert from "node:assert/strict";
import { RE2JS } from "re2js";
import { checkSite } from "../../src/check/check_site.ts";
import { checkResultSchema } from "../../src/check/result.ts";
import { closedPort, startHttpTarget, startRawTarget } from "../_helpers/http_target.ts";
import { siteFor } from "../_helpers/sites.ts";
import { VERSION } from "../../src/version.ts";

Deno.test("checkSite() reports a 200 whose body matches the pattern as up", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/text/hello%20world"), { pattern: "w.rld" }));
  checkResultSchema.parse(result);
  assert.equal(result.up, true);
  assert.equal(result.statusCode, 200);
  assert.equal(result.pattern, "w.rld");
  assert.equal(result.patternMatched, true);
  assert.equal(result.error, null);
  assert.equal(result.siteId, "test-site");
  assert.ok(result.responseTimeMs !== null && result.responseTimeMs >= 0);
  assert.ok(result.timeToHeadersMs !== null && result.timeToHeadersMs <= result.responseTimeMs);
});

Deno.test("checkSite() reports a 200 whose body does not match as pattern_mismatch", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/text/hello"), { pattern: "(?i)GOODBYE" }));
  assert.equal(result.up, false);
  assert.equal(result.statusCode, 200);
  assert.equal(result.patternMatched, false);
  assert.equal(result.error?.kind, "pattern_mismatch");
  assert.ok(result.responseTimeMs !== null);
});

Deno.test("checkSite() leaves patternMatched null when the site has no pattern", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/text/hello")));
  assert.equal(result.pattern, null);
  assert.equal(result.patternMatched, null);
  assert.equal(result.up, true);
});

Deno.test("checkSite() reports a 500 as unexpected_status with its status and timing", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/code/500"), { pattern: "code" }));
  assert.equal(result.up, false);
  assert.equal(result.statusCode, 500);
  assert.equal(result.patternMatched, true);
  assert.equal(result.error?.kind, "unexpected_status");
  assert.ok(result.responseTimeMs !== null);
});

Deno.test("checkSite() follows redirects and records the final status", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/redirect/3"), { pattern: "code 200" }));
  assert.equal(result.up, true);
  assert.equal(result.statusCode, 200);
  assert.equal(result.patternMatched, true);
  assert.equal(result.url, target.url("/redirect/3"));
});

Deno.test("checkSite() reports a redirect loop as too_many_redirects", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/loop")));
  assert.equal(result.up, false);
  assert.equal(result.error?.kind, "too_many_redirects");
  assert.equal(result.statusCode, 302);
});

Deno.test("checkSite() reports headers that never arrive as timeout within the site's timeout", async () => {
  await using target = startHttpTarget();
  const started = performance.now();
  const result = await checkSite(siteFor(target.url("/sleep/5000"), { timeout: "300ms" }));
  const elapsedMs = performance.now() - started;
  assert.equal(result.error?.kind, "timeout");
  assert.equal(result.up, false);
  assert.equal(result.statusCode, null);
  assert.equal(result.responseTimeMs, null);
  assert.equal(result.timeToHeadersMs, null);
  assert.ok(elapsedMs >= 290 && elapsedMs < 2000, `took ${elapsedMs} ms`);
});

Deno.test("checkSite() reports a body that arrives too late as timeout, keeping the status", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/slow-body/5000"), { timeout: "300ms" }));
  assert.equal(result.error?.kind, "timeout");
  assert.equal(result.statusCode, 200);
  assert.ok(result.timeToHeadersMs !== null);
  assert.equal(result.responseTimeMs, null);
});

Deno.test("checkSite() stops reading a body that never ends", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/endless")));
  assert.equal(result.error?.kind, "body_too_large");
  assert.equal(result.transferMs, null, "a body never read to its end has no transfer time");
  assert.equal(result.statusCode, 200);
  assert.equal(result.up, false);
});

Deno.test("checkSite() reports a closed port as refused", async () => {
  const result = await checkSite(siteFor(`http://127.0.0.1:${closedPort()}/`));
  assert.equal(result.error?.kind, "refused");
  assert.equal(result.statusCode, null);
  assert.equal(result.up, false);
});

Deno.test("checkSite() reports an unknown host as dns", async () => {
  const result = await checkSite(siteFor("http://no-such-host.invalid/"));
  assert.equal(result.error?.kind, "dns");
});

Deno.test("checkSite() reports a connection reset before the response as reset", async () => {
  await using target = startRawTarget(null);
  const result = await checkSite(siteFor(target.url("/")));
  assert.equal(result.error?.kind, "reset", result.error?.message);
});

Deno.test("checkSite() reports a response that is not HTTP as invalid_response", async () => {
  await using target = startRawTarget(new TextEncoder().encode("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
  const result = await checkSite(siteFor(target.url("/")));
  assert.equal(result.error?.kind, "invalid_response", result.error?.message);
});

Deno.test("checkSite() reports TLS spoken to a plain HTTP server as tls", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/code/200").replace("http:", "https:")));
  assert.equal(result.error?.kind, "tls", result.error?.message);
});

Deno.test("checkSite() keeps the URL out of error messages", async () => {
  const result = await checkSite(siteFor("http://no-such-host.invalid/?token=secret"));
  assert.ok(!result.error?.message.includes("secret"), result.error?.message);
});

Deno.test("checkSite() takes checkedAt from the wall clock and ids from the generator", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/code/204")), {
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    newId: () => "0190a000-0000-7000-8000-000000000000",
  });
  assert.equal(result.checkedAt, "2026-01-02T03:04:05.006Z");
  assert.equal(result.checkId, "0190a000-0000-7000-8000-000000000000");
  assert.equal(result.statusCode, 204);
});

Deno.test("checkSite() caps a gzip bomb at max_body_bytes of decompressed data", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/gzip-bomb/64")));
  assert.equal(result.error?.kind, "body_too_large");
  assert.equal(result.statusCode, 200);
});

Deno.test("checkSite() reads a gzip body within the cap, decompressed", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/gzip-bomb/0")));
  assert.equal(result.up, true, result.error?.message);
});

Deno.test("checkSite() reads gzip, deflate and br bodies as browsers do", async () => {
  await using target = startHttpTarget();
  for (const encoding of ["gzip", "deflate", "br"]) {
    const site = siteFor(target.url(`/encoded/${encoding}`), { pattern: "^hello encoded$" });
    const result = await checkSite(site);
    assert.equal(result.up, true, `${encoding}: ${result.error?.message}`);
  }
});

Deno.test("checkSite() reports a body that is not what its content-encoding says as invalid_response", async () => {
  await using target = startRawTarget(
    new TextEncoder().encode(
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!",
    ),
  );
  const result = await checkSite(siteFor(target.url("/")));
  assert.equal(result.error?.kind, "invalid_response", result.error?.message);
  assert.equal(result.statusCode, 200);
});

/** Raw answers no well-behaved server sends, and the kind each must get. */
const HOSTILE_ANSWERS = [
  [
    "a 101 upgrade",
    "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n",
    "reset",
  ],
  [
    "a malformed chunk",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n",
    "invalid_response",
  ],
  ["a status below 100", "HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok", "invalid_response"],
  [
    "a br body that is not br",
    "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 9\r\n\r\nnot br!!!",
    "invalid_response",
  ],
] as const;

for (const [what, answer, kind] of HOSTILE_ANSWERS) {
  Deno.test(`checkSite() reports ${what} as ${kind}, within the timeout`, async () => {
    await using target = startRawTarget(new TextEncoder().encode(answer));
    const result = await checkSite(siteFor(target.url("/"), { timeout: "2s" }));
    checkResultSchema.parse(result);
    assert.equal(result.error?.kind, kind, result.error?.message);
  });
}

Deno.test("checkSite() reports a redirect to a scheme other than http(s) as invalid_response", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(
    siteFor(target.url(`/redirect-to/${encodeURIComponent("ftp://a.example/")}`)),
  );
  assert.deepEqual(result.error, {
    kind: "invalid_response",
    message: "Redirect to an invalid location",
  });
  assert.equal(result.statusCode, 302);
});

Deno.test("checkSite() matches a pattern in a body with invalid UTF-8", async () => {
  await using target = startHttpTarget();
  // 0xff 0xfe are never valid UTF-8; "hello" follows.
  const result = await checkSite(
    siteFor(target.url("/bytes/fffe68656c6c6f"), { pattern: "hello$" }),
  );
  assert.equal(result.patternMatched, true);
  assert.equal(result.up, true);
});

Deno.test("checkSite() reports a response header too large to parse as invalid_response", async () => {
  const header = `X-Big: ${"x".repeat(1_000_000)}\r\n`;
  await using target = startRawTarget(
    new TextEncoder().encode(`HTTP/1.1 200 OK\r\n${header}Content-Length: 2\r\n\r\nok`),
  );
  const result = await checkSite(siteFor(target.url("/")));
  assert.equal(result.error?.kind, "invalid_response", result.error?.message);
  assert.ok(!result.error.message.includes("127.0.0.1:"), result.error.message);
});

Deno.test("checkSite() runs a catastrophic-backtracking pattern in linear time", async () => {
  await using target = startHttpTarget();
  // (a+)+$ against many a's then a b takes exponential time in a backtracking engine.
  const body = encodeURIComponent(`${"a".repeat(50_000)}b`);
  const result = await checkSite(siteFor(target.url(`/text/${body}`), { pattern: "(a+)+$" }));
  assert.equal(result.patternMatched, false);
  assert.equal(result.error?.kind, "pattern_mismatch");
});

Deno.test("checkSite() opens a fresh connection for every check", async () => {
  await using target = startHttpTarget();
  const site = siteFor(target.url("/code/200"));
  for (let i = 0; i < 3; i++) assert.equal((await checkSite(site)).up, true);
  assert.equal(new Set(target.peers).size, 3, `connections were reused: ${target.peers}`);
});

Deno.test("checkSite() opens exactly one connection per redirect hop", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(siteFor(target.url("/redirect/3")));
  assert.equal(result.up, true, result.error?.message);
  assert.equal(target.peers?.length, 4);
  assert.equal(new Set(target.peers).size, 4, `connections were reused: ${target.peers}`);
});

Deno.test("checkSite() sends the site's method, headers and body", async () => {
  await using target = startHttpTarget();
  const site = {
    ...siteFor(target.url("/echo")),
    method: "POST" as const,
    headers: { "x-test": "yes" },
    body: "ping",
  };
  const sent = '{"method":"POST","xTest":"yes","body":"ping"}';
  const result = await checkSite({
    ...site,
    pattern: { source: sent, regex: RE2JS.compile(RE2JS.quote(sent)) },
  });
  assert.equal(result.patternMatched, true, "the server did not receive the request as configured");
});

Deno.test("checkSite() continues a POST redirected with 303 as a GET without body", async () => {
  await using target = startHttpTarget();
  const site = { ...siteFor(target.url("/see-other")), method: "POST" as const, body: "ping" };
  const expected = '{"method":"GET","xTest":null,"body":""}';
  const result = await checkSite({
    ...site,
    pattern: { source: expected, regex: RE2JS.compile(RE2JS.quote(expected)) },
  });
  assert.equal(result.patternMatched, true);
  assert.equal(result.statusCode, 200);
});

Deno.test("checkSite() judges the status by the site's expect_status", async () => {
  await using target = startHttpTarget();
  const site = {
    ...siteFor(target.url("/code/200")),
    expectStatus: [[204, 204], [300, 302]] as const,
  };
  const result = await checkSite(site);
  assert.equal(result.up, false);
  assert.deepEqual(result.error, {
    kind: "unexpected_status",
    message: "Status 200 is not in 204, 300-302",
  });
  const teapot = await checkSite({
    ...siteFor(target.url("/code/418")),
    expectStatus: [[418, 418]],
  });
  assert.equal(teapot.up, true);
});

Deno.test("checkSite() with redirects off records the redirect itself", async () => {
  await using target = startHttpTarget();
  const result = await checkSite({ ...siteFor(target.url("/redirect/2")), maxRedirects: 0 });
  assert.equal(result.statusCode, 302);
  assert.equal(result.up, true);
  assert.equal(target.peers?.length, 1);
});

Deno.test("checkSite() reports a redirect chain longer than the site allows", async () => {
  await using target = startHttpTarget();
  const result = await checkSite({ ...siteFor(target.url("/redirect/3")), maxRedirects: 2 });
  checkResultSchema.parse(result);
  assert.equal(result.error?.kind, "too_many_redirects");
  assert.equal(result.statusCode, 302);
});

Deno.test("checkSite() names the version and the checker's region in its User-Agent", async () => {
  let userAgent: string | null = null;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    userAgent = request.headers.get("user-agent");
    return new Response("ok");
  });
  const result = await checkSite(siteFor(`http://127.0.0.1:${server.addr.port}/`), {
    origin: { region: "eu", checker: "h:1" },
  });
  assert.deepEqual([result.up, result.region, result.checker], [true, "eu", "h:1"]);
  assert.match(userAgent ?? "", new RegExp(`^website-monitor/${VERSION} \\(\\S+; region=eu\\)$`));
});
