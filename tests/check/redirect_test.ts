/**
 * A site's secrets stay with its origin, as curl and browsers keep them: a redirect to another
 * origin (scheme, host or port) takes none of the site's headers unless the site names them in
 * `forward_headers_on_redirect`, never from https to http, and never the body. A second listener
 * plays the other host and shows what reached it.
 */
import assert from "node:assert/strict";
import { checkSite } from "../../src/check/check_site.ts";
import { checkResultSchema } from "../../src/check/result.ts";
import type { SiteConfig } from "../../src/config/sites.ts";
import { parseSites } from "../../src/sites/file.ts";
import { LOCALHOST_TLS, TEST_CA_FILE } from "../_helpers/http_target.ts";
import { siteFor } from "../_helpers/sites.ts";

/** What a listener received. */
interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

interface Recorder extends AsyncDisposable {
  readonly url: (path: string) => string;
  readonly received: readonly Received[];
}

/**
 * A listener on loopback that records every request and answers with `answer(path)`, or 200.
 * With `tls`, over HTTPS as `localhost`; else over HTTP as `host`.
 */
function startRecorder(
  answer: (path: string) => Response | undefined,
  options: { tls?: boolean; host?: string } = {},
): Recorder {
  const received: Received[] = [];
  const controller = new AbortController();
  const tls = options.tls ? LOCALHOST_TLS : {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {}, ...tls },
    async (request) => {
      const path = new URL(request.url).pathname;
      received.push({
        method: request.method,
        path,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
      });
      return answer(path) ?? new Response("recorded");
    },
  );
  const origin = options.tls
    ? `https://localhost:${server.addr.port}`
    : `http://${options.host ?? "127.0.0.1"}:${server.addr.port}`;
  return {
    url: (path) => origin + path,
    received,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await server.finished;
    },
  };
}

function redirect(status: number, location: string): Response {
  return new Response(null, { status, headers: { location } });
}

/** The other host: a listener of its own, on another port and reached by another name. */
function startOtherHost(): Recorder {
  return startRecorder(() => undefined, { host: "localhost" });
}

/** Headers and a body that are the site's secrets. */
const SECRET_HEADERS = {
  Authorization: "Bearer s3cret-token",
  Cookie: "session=s3cret-cookie",
  "X-Api-Key": "s3cret-key",
};
const SECRET_BODY = "password=s3cret-body";

function secretSite(url: string, method: "GET" | "POST"): SiteConfig {
  return {
    ...siteFor(url, { ca_file: TEST_CA_FILE }),
    method,
    headers: SECRET_HEADERS,
    body: method === "POST" ? SECRET_BODY : null,
  };
}

function assertNoSecret(recorder: Recorder): void {
  assert.doesNotMatch(JSON.stringify(recorder.received), /s3cret/);
}

Deno.test("checkSite() does not repeat a POST with its headers and body at another origin on a 307 or 308", async () => {
  await using other = startOtherHost();
  for (const status of [307, 308]) {
    await using origin = startRecorder(() => redirect(status, other.url("/elsewhere")));
    const result = await checkSite(secretSite(origin.url("/login"), "POST"));
    checkResultSchema.parse(result);
    assert.equal(origin.received[0]?.body, SECRET_BODY, "the site itself gets its body");
    assert.equal(origin.received[0]?.headers.authorization, SECRET_HEADERS.Authorization);
    assert.equal(result.statusCode, status, "the redirect is the final response");
    assert.equal(result.error, null);
  }
  assert.deepEqual(other.received, []);
});

Deno.test("checkSite() keeps method, body and headers on a 307 within the origin", async () => {
  await using origin = startRecorder((path) =>
    path === "/login" ? redirect(307, "/login/again") : undefined
  );
  const result = await checkSite(secretSite(origin.url("/login"), "POST"));
  assert.equal(result.up, true, result.error?.message);
  const again = origin.received[1];
  assert.equal(again?.path, "/login/again");
  assert.equal(again.method, "POST");
  assert.equal(again.body, SECRET_BODY);
  assert.equal(again.headers["x-api-key"], SECRET_HEADERS["X-Api-Key"]);
});

Deno.test("checkSite() sends none of the site's headers to another origin after a 302", async () => {
  await using other = startOtherHost();
  await using origin = startRecorder(() => redirect(302, other.url("/elsewhere")));
  const result = await checkSite(secretSite(origin.url("/account"), "GET"));
  assert.equal(result.up, true, result.error?.message);
  assert.equal(origin.received[0]?.headers.cookie, SECRET_HEADERS.Cookie);
  assert.equal(other.received.length, 1);
  assert.match(other.received[0]!.headers["user-agent"] ?? "", /^website-monitor\//);
  assertNoSecret(other);
});

Deno.test("checkSite() continues a POST redirected elsewhere by 301, 302 or 303 as a GET with neither body nor headers", async () => {
  for (const status of [301, 302, 303]) {
    await using other = startOtherHost();
    await using origin = startRecorder(() => redirect(status, other.url("/elsewhere")));
    const result = await checkSite(secretSite(origin.url("/login"), "POST"));
    assert.equal(result.up, true, result.error?.message);
    assert.equal(other.received[0]?.method, "GET", `after ${status}`);
    assert.equal(other.received[0].body, "");
    assertNoSecret(other);
  }
});

Deno.test("checkSite() sends a PUT's body once: a 301 within the origin continues as a GET without it", async () => {
  await using origin = startRecorder((path) => path === "/a" ? redirect(301, "/b") : undefined);
  const result = await checkSite({ ...secretSite(origin.url("/a"), "POST"), method: "PUT" });
  assert.equal(result.up, true, result.error?.message);
  assert.deepEqual(origin.received.map(({ method, body }) => [method, body]), [
    ["PUT", SECRET_BODY],
    ["GET", ""],
  ]);
});

Deno.test("checkSite() sends another origin the headers forward_headers_on_redirect names, and those only", async () => {
  await using other = startOtherHost();
  await using origin = startRecorder(() => redirect(302, other.url("/elsewhere")));
  const [site] = parseSites(
    [
      "sites:",
      "  - id: api",
      `    url: "${origin.url("/v1/health")}"`,
      "    headers:",
      "      Authorization: Bearer s3cret-token",
      "      X-Api-Key: s3cret-key",
      "    forward_headers_on_redirect: [x-api-KEY]",
    ].join("\n"),
    "sites.yaml",
  );
  const result = await checkSite(site!);
  assert.equal(result.up, true, result.error?.message);
  const { headers } = other.received[0]!;
  assert.equal(headers["x-api-key"], "s3cret-key");
  assert.equal(headers.authorization, undefined);
});

Deno.test("checkSite() takes no header, named or not, and no body from https to http", async () => {
  await using other = startRecorder((path) =>
    path === "/back" ? redirect(302, secure.url("/home")) : undefined
  );
  await using secure = startRecorder(
    (path) =>
      path === "/home" ? undefined : redirect(path === "/login" ? 307 : 302, other.url("/back")),
    { tls: true },
  );
  const site = {
    ...secretSite(secure.url("/account"), "GET"),
    forwardHeadersOnRedirect: ["authorization", "cookie", "x-api-key"],
  };
  const result = await checkSite(site);
  assert.equal(result.up, true, result.error?.message);
  assert.equal(other.received.length, 1);
  assertNoSecret(other);
  // Once dropped, they stay dropped: the way back to the site's own origin carries none either.
  assert.deepEqual(secure.received.map(({ path }) => path), ["/account", "/home"]);
  assert.doesNotMatch(JSON.stringify(secure.received[1]), /s3cret/);

  const post = await checkSite({
    ...site,
    url: secure.url("/login"),
    method: "POST",
    body: SECRET_BODY,
  });
  assert.equal(post.statusCode, 307);
  assert.equal(other.received.length, 1, "the body went from https to http");
});
