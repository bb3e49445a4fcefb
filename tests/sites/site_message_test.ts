import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveSite } from "../../src/sites/checker_sites.ts";
import { parseSites, parseSitesAsWritten } from "../../src/sites/file.ts";
import { ConfigError, formatProblem } from "../../src/errors.ts";
import {
  decodeSiteMessage,
  encodeSiteMessage,
  siteMessages,
} from "../../src/sites/site_message.ts";

const testdata = (name: string) => new URL(`../testdata/${name}`, import.meta.url).pathname;
const CA_PEM = Deno.readTextFileSync(testdata("tls/ca.pem"));

function messagesOf(text: string, file = "sites.yaml") {
  return siteMessages(parseSitesAsWritten(text, file), file);
}

/** The problems of an invalid text, as the user sees them. */
function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map(formatProblem);
  }
  return assert.fail("the text was accepted");
}

Deno.test("siteMessages() merges the defaults into each site, the site's keys and headers winning", () => {
  const text = `defaults:
  interval: 30s
  timeout: 5s
  headers:
    user-agent: monitor
    accept: text/html
sites:
  - id: shop
    url: https://shop.example/
    timeout: 2s
    headers:
      accept: application/json
  - id: blog
    name: Blog
    url: https://blog.example/
`;
  assert.deepEqual(messagesOf(text), [
    {
      version: 1,
      site: {
        id: "shop",
        url: "https://shop.example/",
        interval: "30s",
        timeout: "2s",
        headers: { "user-agent": "monitor", accept: "application/json" },
      },
    },
    {
      version: 1,
      site: {
        id: "blog",
        name: "Blog",
        url: "https://blog.example/",
        interval: "30s",
        timeout: "5s",
        headers: { "user-agent": "monitor", accept: "text/html" },
      },
    },
  ]);
});

Deno.test("siteMessages() merges the defaults' alert keys into each site's, key by key, and publishes no channel", () => {
  const text = `channels:
  team: { type: slack, url: "\${SLACK_WEBHOOK_URL}" }
  hook: { type: webhook, url: "\${WEBHOOK_URL}", secret: "\${WEBHOOK_SECRET}" }
defaults:
  alert: { channels: [team], failure_threshold: 5, response_time: 2s }
sites:
  - id: shop
    url: https://shop.example/
    alert: { stale_after: 4, channels: [hook, team], failure_threshold: 2 }
  - id: blog
    url: https://blog.example/
`;
  const messages = messagesOf(text);
  assert.deepEqual(messages.map((message) => message.site.alert), [
    { failure_threshold: 2, response_time: "2s", stale_after: 4, channels: ["hook", "team"] },
    { failure_threshold: 5, response_time: "2s", channels: ["team"] },
  ]);
  assert.deepEqual(Object.keys(messages[0]!.site.alert!), [
    "failure_threshold",
    "response_time",
    "stale_after",
    "channels",
  ]);
  // A checker reading the topic makes of each message the alert rule the file gives the site.
  const fromFile = parseSitesAsWritten(text, "sites.yaml").sites;
  messages.forEach((message, index) => {
    const encoded = encodeSiteMessage(message);
    assert.ok(!encoded.includes("WEBHOOK"), "a channel was published");
    const decoded = decodeSiteMessage(message.site.id, new TextEncoder().encode(encoded));
    assert.deepEqual(decoded, message);
    const { ca_cert: _, ...entry } = message.site;
    const resolved = resolveSite(entry, null, { env: {} });
    assert.deepEqual("site" in resolved && resolved.site.alert, fromFile[index]?.alert);
  });
});

Deno.test("siteMessages() keeps ${NAME} references and $${ as written, whatever the environment", () => {
  Deno.env.set("SITE_TOKEN", "s3cret-from-env");
  try {
    const text = `sites:
  - id: api
    url: https://\${SITE_API_HOST}/v1?key=\${SITE_API_KEY}
    headers:
      authorization: Bearer \${SITE_TOKEN}
    pattern: 'cost: $\${price}'
`;
    const [message] = messagesOf(text);
    assert.deepEqual(message?.site, {
      id: "api",
      url: "https://${SITE_API_HOST}/v1?key=${SITE_API_KEY}",
      pattern: "cost: $${price}",
      headers: { authorization: "Bearer ${SITE_TOKEN}" },
    });
    assert.ok(!encodeSiteMessage(message!).includes("s3cret"));
  } finally {
    Deno.env.delete("SITE_TOKEN");
  }
});

Deno.test("siteMessages() carries the contents of ca_file as ca_cert, from the site or the defaults", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(testdata("tls/ca.pem"), join(dir, "ca.pem"));
    const text = `defaults:
  ca_file: ca.pem
sites:
  - id: inherits
    url: https://a.example/
  - id: own
    url: https://b.example/
    ca_file: ${testdata("tls/ca.pem")}
`;
    const file = join(dir, "sites.yaml");
    const messages = siteMessages(parseSitesAsWritten(text, file), file);
    for (const { site } of messages) {
      assert.equal(site.ca_cert, CA_PEM, site.id);
      assert.ok(!("ca_file" in site), site.id);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseSitesAsWritten() refuses a ca_file over 64 KiB at its line, and takes one of exactly 64 KiB", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pem = (bytes: number) => CA_PEM + "#".repeat(bytes - CA_PEM.length);
    await Deno.writeTextFile(join(dir, "big.pem"), pem(64 * 1024 + 1));
    await Deno.writeTextFile(join(dir, "full.pem"), pem(64 * 1024));
    const file = join(dir, "sites.yaml");
    const text = (ca: string) =>
      `sites:\n  - id: a\n    url: https://a.example/\n    ca_file: ${ca}\n`;
    assert.deepEqual(problemsOf(() => parseSitesAsWritten(text("big.pem"), file)), [
      `${file}:4: sites[0].ca_file "big.pem" is 65537 bytes: a CA file may hold at most 65536 bytes (64 KiB) of PEM certificates`,
    ]);
    const [message] = siteMessages(parseSitesAsWritten(text("full.pem"), file), file);
    // Taken, and only its certificate travels.
    assert.equal(message?.site.ca_cert, CA_PEM);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("siteMessages() writes a site's keys in one order, whatever the file's", () => {
  const a = messagesOf("sites:\n  - url: https://a.example/\n    interval: 1m\n    id: a\n");
  const b = messagesOf("sites:\n  - interval: 1m\n    id: a\n    url: https://a.example/\n");
  assert.equal(encodeSiteMessage(a[0]!), encodeSiteMessage(b[0]!));
  assert.deepEqual(Object.keys(a[0]!.site), ["id", "url", "interval"]);
});

Deno.test("parseSitesAsWritten() reports every problem parseSites() reports but unset variables", async () => {
  let unset = 0;
  for await (const entry of Deno.readDir(testdata("."))) {
    if (!entry.name.startsWith("invalid-")) continue;
    const text = await Deno.readTextFile(testdata(entry.name));
    const resolving = problemsOf(() => parseSites(text, testdata(entry.name), {}));
    const isUnset = (problem: string) => problem.endsWith("which is not set in the environment");
    unset += resolving.filter(isUnset).length;
    assert.deepEqual(
      problemsOf(() => parseSitesAsWritten(text, testdata(entry.name))),
      resolving.filter((problem) => !isUnset(problem)),
      entry.name,
    );
  }
  assert.ok(unset > 0, "no test file refers to an unset variable");
});

Deno.test("parseSitesAsWritten() checks a value with each reference as a word, and says so", () => {
  const text = `sites:
  - id: a
    url: \${SITE_URL}
  - id: \${ID}
    url: https://b.example/
    interval: \${SITE_INTERVAL}
  - id: c
    url: https://\${SITE_HOST}:\${SITE_PORT}/
`;
  const hint =
    '(each ${NAME} was read as the word "x": checkers resolve references, so one may stand for part of this value, not for all of it)';
  assert.deepEqual(problemsOf(() => parseSitesAsWritten(text, "sites.yaml")), [
    `sites.yaml:3: sites[0].url must be an absolute http(s) URL: current value is "\${SITE_URL}" ${hint}`,
    "sites.yaml:4: sites[1].id cannot hold a ${NAME} reference here: the id is the site's key on the sites topic; write it out",
    `sites.yaml:6: sites[1].interval must be a duration such as "30s", "5m" or "1h": current value is "\${SITE_INTERVAL}" ${hint}`,
    `sites.yaml:8: sites[2].url must be an absolute http(s) URL: current value is "https://\${SITE_HOST}:\${SITE_PORT}/" ${hint}`,
  ]);
});

Deno.test("decodeSiteMessage() reads what encodeSiteMessage() wrote", () => {
  const [message] = messagesOf(
    "sites:\n  - id: a\n    url: https://a.example/\n    expect_status: [204]\n",
  );
  const value = new TextEncoder().encode(encodeSiteMessage(message!));
  assert.deepEqual(decodeSiteMessage("a", value), message);
});

Deno.test("decodeSiteMessage() says why a message is not a site", () => {
  const decode = (key: string, text: string | Uint8Array) => {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    const decoded = decodeSiteMessage(key, bytes);
    return "unreadable" in decoded ? decoded.unreadable : "a site";
  };
  const site = { id: "a", url: "https://a.example/" };
  assert.match(decode("a", "not json"), /^Message is not UTF-8 JSON: /);
  assert.match(decode("a", new Uint8Array([0x7b, 0xff, 0x7d])), /^Message is not UTF-8 JSON: /);
  assert.equal(
    decode("a", JSON.stringify({ version: 2, site })),
    "Message version 2 is not supported: this monitor reads version 1",
  );
  assert.equal(
    decode("a", JSON.stringify({ site })),
    "Message version missing is not supported: this monitor reads version 1",
  );
  assert.match(
    decode("a", JSON.stringify({ version: 1, site: { ...site, colour: "red" } })),
    /^Message is not a valid site: site: Unrecognized key: "colour"/,
  );
  assert.match(
    decode("a", JSON.stringify({ version: 1, site: { ...site, ca_file: "ca.pem" } })),
    /^Message is not a valid site: site: Unrecognized key: "ca_file"/,
  );
  assert.equal(
    decode("b", JSON.stringify({ version: 1, site })),
    'Message key "b" is not its site\'s id "a"',
  );
  assert.equal(decode("a", JSON.stringify({ version: 1, site })), "a site");
});

Deno.test("decodeSiteMessage() quotes a message's key and version with their control characters escaped", () => {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const site = { id: "a", url: "https://a.example/" };
  assert.deepEqual(decodeSiteMessage("evil\u202egro", encode({ version: 1, site })), {
    unreadable: 'Message key "evil\\u202egro" is not its site\'s id "a"',
  });
  assert.deepEqual(decodeSiteMessage("a", encode({ version: "1\u009b2J", site })), {
    unreadable: 'Message version "1\\u009b2J" is not supported: this monitor reads version 1',
  });
});
