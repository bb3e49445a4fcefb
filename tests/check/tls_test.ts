import assert from "node:assert/strict";
import { checkSite } from "../../src/check/check_site.ts";
import { checkResultSchema } from "../../src/check/result.ts";
import {
  startHttpsTarget,
  TEST_CA_FILE,
  TEST_CA_PEM,
  TEST_CERT_EXPIRES_AT,
} from "../_helpers/http_target.ts";
import { siteFor } from "../_helpers/sites.ts";

Deno.test("checkSite() trusts a site's ca_file and records when its certificate expires", async () => {
  await using target = startHttpsTarget();
  const site = siteFor(target.url("/"), { ca_file: TEST_CA_FILE, pattern: "secure" });
  const result = await checkSite(site);
  checkResultSchema.parse(result);
  assert.equal(result.up, true, result.error?.message);
  assert.equal(result.certExpiresAt, TEST_CERT_EXPIRES_AT);
});

Deno.test("checkSite() reports a certificate from an unknown issuer as tls", async () => {
  await using target = startHttpsTarget();
  const result = await checkSite(siteFor(target.url("/")));
  assert.equal(result.error?.kind, "tls");
  assert.match(result.error.message, /^UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify/);
  assert.equal(result.certExpiresAt, null);
});

Deno.test("checkSite() reports a certificate for another host name as tls", async () => {
  await using target = startHttpsTarget();
  const url = target.url("/").replace("localhost", "127.0.0.1");
  const result = await checkSite({ ...siteFor(url), caCert: TEST_CA_PEM });
  assert.equal(result.error?.kind, "tls");
  assert.match(result.error.message, /^ERR_TLS_CERT_ALTNAME_INVALID: .*IP: 127\.0\.0\.1 is not in/);
});

Deno.test("checkSite() fails a site whose certificate expires within cert_min_days", async () => {
  await using target = startHttpsTarget();
  const site = siteFor(target.url("/"), { ca_file: TEST_CA_FILE });
  const checkedAt = Date.UTC(2046, 0, 13, 18, 16, 15); // ten days before expiry
  const result = await checkSite({ ...site, certMinDays: 14 }, { now: () => checkedAt });
  assert.equal(result.up, false);
  assert.deepEqual(result.error, {
    kind: "tls",
    message: `Certificate expires ${TEST_CERT_EXPIRES_AT}, in 10.0 days: fewer than 14`,
  });
  assert.equal(result.statusCode, 200);
  assert.equal(result.certExpiresAt, TEST_CERT_EXPIRES_AT);
  const relaxed = await checkSite({ ...site, certMinDays: 7 }, { now: () => checkedAt });
  assert.equal(relaxed.up, true);
});

Deno.test("checkSite() records no certificate for plain http", async () => {
  const result = await checkSite(siteFor("http://127.0.0.1:9/"));
  assert.equal(result.certExpiresAt, null);
});

Deno.test("checkSite() with tls_verify false checks a site whose certificate does not verify", async () => {
  await using target = startHttpsTarget();
  const url = target.url("/").replace("localhost", "127.0.0.1"); // unknown issuer and wrong name
  const result = await checkSite(siteFor(url, { tls_verify: "false", pattern: "secure hello" }));
  checkResultSchema.parse(result);
  assert.equal(result.up, true, result.error?.message);
  assert.equal(result.statusCode, 200);
  assert.equal(result.patternMatched, true);
  assert.equal(result.certExpiresAt, TEST_CERT_EXPIRES_AT);
});
