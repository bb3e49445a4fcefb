/**
 * A checker never connects to a denied network (by default the link-local ones, where cloud
 * metadata services hand out credentials), whether the URL names the address, a name resolves to
 * it, or a redirect leads there.
 */
import assert from "node:assert/strict";
import { checkSite } from "../../src/check/check_site.ts";
import { deniedNetworks, isDenied } from "../../src/check/denied_networks.ts";
import { checkResultSchema } from "../../src/check/result.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import { siteFor } from "../_helpers/sites.ts";

Deno.test("checkSite() refuses a cloud metadata address by default, as denied", async () => {
  for (
    const url of [
      "http://169.254.169.254/latest/meta-data/",
      "http://[fe80::1]/",
      "http://[::ffff:169.254.169.254]/",
      "http://[::169.254.169.254]/",
      "http://[64:ff9b::a9fe:a9fe]/",
    ]
  ) {
    // (Not through YAML, where an unquoted [ starts a list.)
    const result = await checkSite({ ...siteFor("http://a.example/", { timeout: "5s" }), url });
    checkResultSchema.parse(result);
    assert.equal(result.error?.kind, "denied", `${url}: ${result.error?.message}`);
    assert.match(
      result.error.message,
      /is in a network checks may not reach \(CHECK_DENY_NETWORKS\)$/,
    );
    assert.equal(result.remoteAddress, null);
  }
});

Deno.test("checkSite() refuses a name that resolves into a denied network, before connecting", async () => {
  await using target = startHttpTarget();
  const url = target.url("/code/200").replace("127.0.0.1", "localhost");
  const result = await checkSite(siteFor(url), {
    denied: deniedNetworks(["127.0.0.0/8", "::1/128"]),
  });
  assert.equal(result.error?.kind, "denied", result.error?.message);
  assert.ok(result.dnsMs !== null, "the name was resolved");
  assert.equal(result.connectMs, null);
  assert.deepEqual(target.peers, []);
});

Deno.test("checkSite() refuses a redirect into a denied network", async () => {
  await using target = startHttpTarget();
  const next = encodeURIComponent("http://169.254.169.254/latest/meta-data/");
  const result = await checkSite(siteFor(target.url(`/redirect-to/${next}`)));
  assert.equal(result.error?.kind, "denied", result.error?.message);
  assert.equal(target.peers?.length, 1);
});

Deno.test("checkSite() follows the list it is given: none denies nothing", async () => {
  await using target = startHttpTarget();
  const site = siteFor(target.url("/code/200"));
  const denied = await checkSite(site, { denied: deniedNetworks(["127.0.0.0/8"]) });
  assert.equal(denied.error?.kind, "denied");
  assert.deepEqual(target.peers, []);
  const allowed = await checkSite(site, { denied: deniedNetworks([]) });
  assert.equal(allowed.up, true, allowed.error?.message);
});

Deno.test("isDenied() judges an IPv6 address that carries an IPv4 one by both", () => {
  const denied = deniedNetworks(["169.254.0.0/16", "fe80::/10"]);
  // 169.254.169.254, the metadata address, in each way IPv6 can carry it.
  for (
    const address of [
      "::ffff:169.254.169.254", // IPv4-mapped
      "0:0:0:0:0:FFFF:A9FE:A9FE",
      "::169.254.169.254", // IPv4-compatible
      "::a9fe:a9fe",
      "64:ff9b::a9fe:a9fe", // NAT64
      "64:ff9b::169.254.169.254",
      "64:ff9b:1::a9fe:a9fe", // NAT64 for local use, /96 …
      "64:ff9b:1:a9fe:a9:fe00::", // … /48 …
      "64:ff9b:1:a9:fe:a9fe::", // … /56 …
      "64:ff9b:1:0:a9:fea9:fe00:0", // … and /64
      "2002:a9fe:a9fe::1", // 6to4
    ]
  ) {
    assert.equal(isDenied(denied, address), true, address);
  }
  for (
    const address of [
      "::ffff:10.0.0.1",
      "::a00:1",
      "64:ff9b::a00:1",
      "2002:a00:1::",
      "2001:db8::a9fe:a9fe",
      "::1",
      "::",
    ]
  ) {
    assert.equal(isDenied(denied, address), false, address);
  }
});

Deno.test("isDenied() does not take the IPv6 loopback and unspecified addresses for IPv4 ones", () => {
  const denied = deniedNetworks(["0.0.0.0/8"]);
  assert.equal(isDenied(denied, "::1"), false);
  assert.equal(isDenied(denied, "::"), false);
  assert.equal(isDenied(denied, "::0.0.0.2"), true);
});
