/**
 * A message on the sites topic asks for no more than a sites file may: a pattern a checker cannot
 * use is a `config` result of its site (not a crash, not a blocked loop), a message over the size
 * bound is not read, and `sites apply` publishes none.
 */
import assert from "node:assert/strict";
import { parseSitesAsWritten } from "../../src/sites/file.ts";
import { ConfigError, formatProblem } from "../../src/errors.ts";
import { checkerSites, isMisconfigured } from "../../src/sites/checker_sites.ts";
import {
  decodeSiteMessage,
  MAX_SITE_MESSAGE_BYTES,
  siteMessages,
} from "../../src/sites/site_message.ts";

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const quiet = { warn: () => {}, error: () => {} };

/** What a checker makes of one message of site `a`. */
function checkerSite(site: Record<string, unknown>) {
  const sitesOf = checkerSites({ env: { SITE_P: "(" }, log: quiet });
  const [made] = sitesOf(new Map([["a", encode({ version: 1, site: { id: "a", ...site } })]]));
  assert.ok(made !== undefined, "the message was left out");
  return made;
}

Deno.test("a site on the topic with a 900 KB pattern is a config result of its site, its pattern never compiled", () => {
  // Not RE2 either (an unclosed group): the length alone is reported.
  const site = checkerSite({ url: "https://a.example/", pattern: `(${"a".repeat(900_000)}` });
  assert.ok(isMisconfigured(site));
  assert.deepEqual(site.problems, [
    `pattern: must be at most 4096 characters: current value is "(${
      "a".repeat(99)
    }…" (900001 characters)`,
  ]);
});

Deno.test("a message of a 4 MB pattern, which gzip lets through the broker, is left out unread", () => {
  const warnings: string[] = [];
  const sitesOf = checkerSites({
    env: {},
    log: { warn: (_message, fields) => warnings.push(String(fields?.reason)), error: () => {} },
  });
  const site = { id: "a", url: "https://a.example/", pattern: "a".repeat(4_000_000) };
  assert.deepEqual(sitesOf(new Map([["a", encode({ version: 1, site })]])), []);
  assert.deepEqual(warnings, [
    "Message is 4000071 bytes: a site's message may have at most 1000000",
  ]);
});

Deno.test("a site on the topic whose pattern is too long, too complex or not RE2 is a config result of its site", () => {
  const problemsOf = (pattern: unknown) => {
    const site = checkerSite({ url: "https://a.example/", pattern });
    return isMisconfigured(site) ? site.problems.map((p) => p.replace(/: current .*/, "")) : [];
  };
  // 700 KB, which every result of the site would carry.
  assert.deepEqual(problemsOf("a".repeat(700_000)), [
    "pattern: must be at most 4096 characters",
  ]);
  assert.deepEqual(problemsOf({ regex: "x{1000}x{1000}x{1000}x{1000}$", flags: "i" }), [
    "pattern.regex: is too complex: it compiles to about 4005 instructions, more than the 1000 allowed (x{n,m} is x repeated m times)",
  ]);
  assert.deepEqual(problemsOf("${SITE_P}"), [
    "pattern: is not a valid RE2 regular expression: missing closing )",
  ]);
  assert.deepEqual(problemsOf("ok"), []);
});

Deno.test("decodeSiteMessage() reads no message over the size bound", () => {
  /** A message of site `a`, spaces after it (JSON allows them) making it `bytes` long. */
  const message = (bytes: number) => {
    const value = encode({ version: 1, site: { id: "a", url: "https://a.example/" } });
    const padded = new Uint8Array(bytes).fill(0x20);
    padded.set(value);
    return padded;
  };
  const decoded = (bytes: number) => {
    const result = decodeSiteMessage("a", message(bytes));
    return "unreadable" in result ? result.unreadable : "a site";
  };
  assert.equal(decoded(MAX_SITE_MESSAGE_BYTES), "a site");
  assert.equal(
    decoded(MAX_SITE_MESSAGE_BYTES + 1),
    "Message is 1000001 bytes: a site's message may have at most 1000000",
  );
});

Deno.test("siteMessages() (sites apply) publishes no site whose message would be over the size bound", () => {
  // Each bound kept, and more than a megabyte together: 64 KiB of "\u0001" takes 384 KiB as JSON.
  const statuses = Array.from({ length: 70_000 }, () => '"200-299"').join(", ");
  const text = `sites:
  - id: a
    url: https://a.example/
    method: POST
    body: "${"\\x01".repeat(65_536)}"
    expect_status: [${statuses}]
  - id: b
    url: https://b.example/
`;
  const error = (() => {
    try {
      siteMessages(parseSitesAsWritten(text, "sites.yaml"), "sites.yaml");
    } catch (error) {
      return error;
    }
  })();
  assert.ok(error instanceof ConfigError, String(error));
  assert.deepEqual(error.problems.map(formatProblem), [
    "sites.yaml: sites[0] would make a message of 1093318 bytes: a site's message may have at most 1000000",
  ]);
});
