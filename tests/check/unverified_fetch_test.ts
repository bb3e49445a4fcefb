/**
 * Sites with `tls_verify: false` go through another HTTP client; it must measure and classify
 * exactly as the default one does.
 */
import assert from "node:assert/strict";
import { checkSite } from "../../src/check/check_site.ts";
import { closedPort, startHttpTarget, startRawTarget } from "../_helpers/http_target.ts";
import { siteFor } from "../_helpers/sites.ts";

const unverified = (url: string, extra: Record<string, string> = {}) =>
  siteFor(url, { tls_verify: "false", ...extra });

Deno.test("unverified checks follow redirects, send the body and match the pattern", async () => {
  await using target = startHttpTarget();
  const result = await checkSite(unverified(target.url("/redirect/2"), { pattern: "code 200" }));
  assert.equal(result.up, true, result.error?.message);
  assert.equal(result.statusCode, 200);
  const posted = await checkSite({
    ...unverified(target.url("/echo")),
    method: "POST",
    body: "ping",
    headers: { "x-test": "yes" },
  });
  assert.equal(posted.up, true);
});

Deno.test("unverified checks cap a gzip bomb and decode a small gzip body", async () => {
  await using target = startHttpTarget();
  assert.equal(
    (await checkSite(unverified(target.url("/gzip-bomb/64")))).error?.kind,
    "body_too_large",
  );
  const small = await checkSite(unverified(target.url("/gzip-bomb/0")));
  assert.equal(small.up, true, small.error?.message);
});

Deno.test("unverified checks classify timeout, refused, reset, dns and invalid responses", async () => {
  await using target = startHttpTarget();
  await using reset = startRawTarget(null);
  await using garbage = startRawTarget(new TextEncoder().encode("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
  const kinds = await Promise.all([
    checkSite(unverified(target.url("/sleep/5000"), { timeout: "300ms" })),
    checkSite(unverified(`http://127.0.0.1:${closedPort()}/`)),
    checkSite(unverified(reset.url("/"))),
    checkSite(unverified("http://no-such-host.invalid/")),
    checkSite(unverified(garbage.url("/"))),
  ]);
  assert.deepEqual(kinds.map((r) => r.error?.kind), [
    "timeout",
    "refused",
    "reset",
    "dns",
    "invalid_response",
  ], kinds.map((r) => r.error?.message).join("\n"));
});
