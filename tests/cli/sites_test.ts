/**
 * `monitor sites apply` and `monitor sites list` against the real broker, each test with a sites
 * topic of its own: what is published (counted by the topic's offsets, which no compaction
 * moves), what is printed, and what is not published.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readSettings } from "../../src/config/settings.ts";
import { ensureTopic, listTopics, topicConfigs } from "../../src/kafka/admin.ts";
import { createKafka, type KafkaClient } from "../../src/kafka/client.ts";
import { endOffsets } from "../../src/kafka/admin.ts";
import { openTestProducer } from "../_helpers/kafka.ts";
import { SILENT } from "../../src/log.ts";
import { monitor } from "../_helpers/cli.ts";
import { messagesOnTopic, testEnv, testProducer } from "../_helpers/services.ts";

const CA = new URL("../testdata/tls/ca.pem", import.meta.url).pathname;

const V1 = `defaults:
  interval: 30s
sites:
  - id: shop
    url: https://shop.example/health
  - id: blog
    url: https://blog.example/
  - id: old
    url: https://old.example/
`;

/** V1 with shop's URL changed, old removed and new added. */
const V2 = `defaults:
  interval: 30s
sites:
  - id: shop
    url: https://shop.example/v2/health
  - id: blog
    url: https://blog.example/
  - id: new
    url: https://new.example/
`;

/** Text that gzip shrinks only back to its `bytes` random bytes: their base64, a third longer. */
function incompressible(bytes: number): string {
  const data = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at += 65_536) crypto.getRandomValues(data.subarray(at, at + 65_536));
  return Buffer.from(data).toString("base64");
}

/**
 * A sites file of sites `a`, `b`… (`a26`… after `z`), each POSTing the base64 of `bodyBytes`
 * random bytes (0: none).
 */
function sitesWithBodies(...bodyBytes: number[]): string {
  const sites = bodyBytes.map((bytes, i) => {
    const id = String.fromCharCode(97 + i % 26) + (i < 26 ? "" : i);
    return postingSite(id, bytes === 0 ? "" : incompressible(bytes));
  });
  return `sites:\n${sites.join("")}`;
}

/** A site of a sites file, `id` at `https://id.example/`, POSTing `body` (none when empty). */
function postingSite(id: string, body: string): string {
  const posting = body === "" ? "" : `    method: POST\n    body: "${body}"\n`;
  return `  - id: ${id}\n    url: https://${id}.example/\n${posting}`;
}

/** A test's environment, its sites topic's client, and a directory for its sites files. */
async function setup(extra: Record<string, string> = {}) {
  const env = testEnv(extra);
  const topic = env.KAFKA_SITES_TOPIC!;
  const kafka: KafkaClient = createKafka(readSettings(env).kafka, SILENT);
  const dir = await Deno.makeTempDir();
  return {
    env,
    topic,
    kafka,
    /** Writes a sites file into the test's directory; returns its path. */
    async file(text: string, name = "sites.yaml") {
      await Deno.writeTextFile(`${dir}/${name}`, text);
      return `${dir}/${name}`;
    },
    /** Runs `monitor args…` to its end. */
    async run(...args: string[]) {
      const invocation = monitor(args, env);
      return { code: await invocation.code, out: invocation.out(), err: invocation.err() };
    },
    /** Messages ever written to the sites topic. */
    async written() {
      return Number((await endOffsets(kafka, topic)).reduce((sum, end) => sum + end, 0n));
    },
    exists: async () => (await listTopics(kafka)).includes(topic),
    /** For the helpers that read and write `KAFKA_TOPIC`: the sites topic in its place. */
    onSitesTopic: { ...env, KAFKA_TOPIC: topic, KAFKA_SITES_TOPIC: `${topic}-unused` },
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("sites apply publishes every site to a new compacted topic of 12 partitions; list shows them", async () => {
  await using t = await setup();
  const applied = await t.run("sites", "apply", await t.file(V1));
  assert.equal(applied.code, 0, applied.err);
  assert.equal(
    applied.out,
    `+ shop\n+ blog\n+ old\n3 added, 0 changed, 0 removed, 0 unchanged: published 3 messages to topic "${t.topic}"\n`,
  );
  assert.equal(await t.written(), 3);
  assert.equal((await endOffsets(t.kafka, t.topic)).length, 12);
  assert.equal((await topicConfigs(t.kafka, t.topic))["cleanup.policy"], "compact");

  const listed = await t.run("sites", "list");
  assert.equal(listed.code, 0, listed.err);
  assert.equal(
    listed.out,
    "blog  https://blog.example/\nold  https://old.example/\nshop  https://shop.example/health\n",
  );
  const json = await t.run("sites", "list", "--json");
  assert.deepEqual(json.out.trimEnd().split("\n").map((line) => JSON.parse(line)), [
    { version: 1, site: { id: "blog", url: "https://blog.example/", interval: "30s" } },
    { version: 1, site: { id: "old", url: "https://old.example/", interval: "30s" } },
    { version: 1, site: { id: "shop", url: "https://shop.example/health", interval: "30s" } },
  ]);
});

Deno.test("sites apply of an edited file publishes exactly its change: one added, one changed, one removed", async () => {
  await using t = await setup();
  assert.equal((await t.run("sites", "apply", await t.file(V1))).code, 0);
  const applied = await t.run("sites", "apply", await t.file(V2));
  assert.equal(applied.code, 0, applied.err);
  assert.equal(
    applied.out,
    `+ new\n~ shop (url)\n- old\n1 added, 1 changed, 1 removed, 1 unchanged: published 3 messages to topic "${t.topic}"\n`,
  );
  assert.equal(await t.written(), 6);
  const messages = await messagesOnTopic(t.onSitesTopic, 6);
  const decoder = new TextDecoder();
  const tally = messages.map((m) => `${decoder.decode(m.key!)}:${m.value === null ? "-" : "v"}`);
  assert.deepEqual(tally.toSorted(), ["blog:v", "new:v", "old:-", "old:v", "shop:v", "shop:v"]);

  const listed = await t.run("sites", "list");
  assert.equal(
    listed.out,
    "blog  https://blog.example/\nnew  https://new.example/\nshop  https://shop.example/v2/health\n",
  );
});

Deno.test("sites apply of the same file twice publishes nothing the second time", async () => {
  await using t = await setup();
  const file = await t.file(V1);
  assert.equal((await t.run("sites", "apply", file)).code, 0);
  const again = await t.run("sites", "apply", file);
  assert.equal(again.code, 0, again.err);
  assert.equal(again.out, "0 added, 0 changed, 0 removed, 3 unchanged: nothing to publish\n");
  assert.equal(await t.written(), 3);
});

Deno.test("sites apply --dry-run prints the difference and publishes nothing, not even a topic", async () => {
  await using t = await setup();
  const first = await t.run("sites", "apply", "--dry-run", await t.file(V1));
  assert.equal(first.code, 0, first.err);
  assert.equal(
    first.out,
    "+ shop\n+ blog\n+ old\n3 added, 0 changed, 0 removed, 0 unchanged: would publish 3 messages (dry run: nothing published)\n",
  );
  assert.equal(await t.exists(), false);

  assert.equal((await t.run("sites", "apply", await t.file(V1))).code, 0);
  const edited = await t.run("sites", "apply", await t.file(V2), "--dry-run");
  assert.equal(edited.code, 0, edited.err);
  assert.match(edited.out, /^\+ new\n~ shop \(url\)\n- old\n1 added, 1 changed, 1 removed/);
  assert.equal(await t.written(), 3);
});

Deno.test("sites apply of an invalid file exits 2 with every problem at file:line and publishes nothing", async () => {
  await using t = await setup();
  const file = await t.file("sites:\n  - id: a\n    url: example.com\n    colour: red\n");
  const applied = await t.run("sites", "apply", file);
  assert.equal(applied.code, 2);
  assert.equal(applied.out, "");
  assert.equal(
    applied.err,
    `${file}:3: sites[0].url must be an absolute http(s) URL: current value is "example.com"\n` +
      `${file}:4: sites[0].colour is not a known key: remove it or check its spelling\n` +
      "2 problems found; nothing was started\n",
  );
  assert.equal(await t.exists(), false);

  assert.equal((await t.run("sites", "apply", await t.file(V1, "valid.yaml"))).code, 0);
  assert.equal((await t.run("sites", "apply", file)).code, 2);
  assert.equal(await t.written(), 3);
});

Deno.test("sites apply publishes ${SITE_TOKEN} as written, though its own environment sets it", async () => {
  await using t = await setup({ SITE_TOKEN: "s3cret-of-the-applier" });
  const file = await t.file(
    "sites:\n  - id: api\n    url: https://api.example/\n    headers:\n      authorization: Bearer ${SITE_TOKEN}\n",
  );
  assert.equal((await t.run("sites", "apply", file)).code, 0);
  const [message] = await messagesOnTopic(t.onSitesTopic, 1);
  const value = new TextDecoder().decode(message!.value!);
  assert.equal(JSON.parse(value).site.headers.authorization, "Bearer ${SITE_TOKEN}");
  assert.ok(!value.includes("s3cret"));
});

Deno.test("sites apply refuses, dry run or not, a ${NAME} that no checker of the topic resolves", async () => {
  // Set where sites apply runs, as the README's example once had it: checkers resolve SITE_* only.
  await using t = await setup({ API_TOKEN: "t0ken" });
  const file = await t.file(
    "sites:\n  - id: api\n    url: https://api.example/\n    headers:\n      authorization: Bearer ${API_TOKEN}\n",
  );
  for (const args of [["sites", "apply", "--dry-run", file], ["sites", "apply", file]]) {
    const applied = await t.run(...args);
    assert.equal(applied.code, 2, args.join(" "));
    assert.equal(applied.out, "");
    assert.equal(
      applied.err,
      `${file}:5: sites[0].headers.authorization refers to \${API_TOKEN}: checkers of the sites topic resolve only SITE_* variables\n` +
        "1 problem found; nothing was started\n",
    );
  }
  assert.equal(await t.exists(), false);
});

Deno.test("sites apply carries the contents of ca_file as ca_cert", async () => {
  await using t = await setup();
  await Deno.copyFile(CA, `${t.dir}/internal-ca.pem`);
  const file = await t.file(
    "sites:\n  - id: internal\n    url: https://internal.example/\n    ca_file: internal-ca.pem\n",
  );
  assert.equal((await t.run("sites", "apply", file)).code, 0);
  const listed = await t.run("sites", "list", "--json");
  const { site } = JSON.parse(listed.out);
  assert.equal(site.ca_cert, await Deno.readTextFile(CA));
  assert.equal("ca_file" in site, false);
});

Deno.test("sites list --json escapes DEL and C1 characters, which JSON leaves raw", async () => {
  await using t = await setup();
  const file = await t.file(
    // (Neither a name nor a header value may hold them: a request body, which no terminal shows,
    // may.)
    'sites:\n  - id: a\n    url: https://a.example/\n    method: POST\n    body: "\\x7fShop\\x9b2J"\n',
  );
  const applied = await t.run("sites", "apply", file);
  assert.equal(applied.code, 0, applied.err);
  const listed = await t.run("sites", "list", "--json");
  assert.doesNotMatch(listed.out, /[\u007f\u009b]/);
  assert.ok(listed.out.includes('"body":"\\u007fShop\\u009b2J"'), listed.out);
  const { site } = JSON.parse(listed.out);
  assert.equal(site.body, "\u007fShop\u009b2J");
});

Deno.test("sites list of a topic that does not exist prints nothing and succeeds", async () => {
  await using t = await setup({ LOG_LEVEL: "info" });
  const listed = await t.run("sites", "list");
  assert.equal(listed.code, 0, listed.err);
  assert.equal(listed.out, "");
  assert.match(listed.err, /no sites: the sites topic does not exist yet/);
});

Deno.test("a message on the sites topic that is not a site: list warns of it, apply replaces it", async () => {
  await using t = await setup();
  assert.equal((await t.run("sites", "apply", await t.file(V1))).code, 0);
  {
    await using raw = await testProducer(t.onSitesTopic, 12);
    await raw.producer.send({ topic: t.topic, messages: [{ key: "shop", value: "not json" }] });
  }
  const listed = await t.run("sites", "list");
  assert.equal(listed.out, "blog  https://blog.example/\nold  https://old.example/\n");
  assert.match(listed.err, /a message on the sites topic is not a site key=shop reason=/);

  const applied = await t.run("sites", "apply", await t.file(V1));
  assert.match(
    applied.out,
    /^~ shop \(replaces a message that is not a site: Message is not UTF-8 JSON/,
  );
  assert.match(applied.out, /0 added, 1 changed, 0 removed, 2 unchanged: published 1 message to/);
});

Deno.test("sites apply refuses a sites topic that exists but is not compacted", async () => {
  await using t = await setup();
  {
    // Created as results topics are: cleanup.policy=delete.
    await using _ = await testProducer(t.onSitesTopic, 1);
  }
  const applied = await t.run("sites", "apply", await t.file(V1));
  assert.equal(applied.code, 2);
  assert.match(
    applied.err,
    new RegExp(`Topic "${t.topic}" is not compacted \\(cleanup.policy is "delete"\\)`),
  );
  assert.equal(await t.written(), 0);
});

Deno.test("sites apply refuses a sites topic that is compacted and deleted too, dry run or not", async () => {
  await using t = await setup();
  const spec = { topic: t.topic, partitions: 1, replicationFactor: -1 };
  await ensureTopic(t.kafka, { ...spec, configs: { "cleanup.policy": "compact,delete" } }, SILENT);
  const file = await t.file(V1);
  for (const args of [["sites", "apply", file], ["sites", "apply", "--dry-run", file]]) {
    const applied = await t.run(...args);
    assert.equal(applied.code, 2, args.join(" "));
    assert.equal(applied.out, "", args.join(" "));
    assert.match(
      applied.err,
      new RegExp(`Topic "${t.topic}" is not compacted \\(cleanup.policy is "compact,delete"\\)`),
    );
  }
  assert.equal(await t.written(), 0);
});

Deno.test("sites apply --dry-run refuses a sites topic that exists but is not compacted", async () => {
  await using t = await setup();
  {
    await using _ = await testProducer(t.onSitesTopic, 1);
  }
  const applied = await t.run("sites", "apply", "--dry-run", await t.file(V1));
  assert.equal(applied.code, 2);
  assert.equal(applied.out, "");
  assert.match(applied.err, /is not compacted \(cleanup.policy is "delete"\)/);
});

Deno.test("sites apply splits its sends by size: thirty sites of 64 KB on one partition are all published", async () => {
  // Each body at its bound; together 1.9 MB, over the broker's 1 MB per partition and send,
  // compressed or not.
  await using t = await setup({ KAFKA_SITES_PARTITIONS: "1" });
  const bodies = Array.from({ length: 30 }, () => 49_152);
  const applied = await t.run("sites", "apply", await t.file(sitesWithBodies(...bodies)));
  assert.equal(applied.code, 0, applied.err);
  assert.match(applied.out, /published 30 messages/);
  assert.equal(await t.written(), 30);
});

Deno.test("sites apply that the broker stops halfway exits 1 saying how much of the change is on the topic", async () => {
  await using t = await setup();
  // Sent apart (together over 900 KB): the first send, 13 bodies that gzip shrinks to nearly
  // nothing, fits in the topic's max.message.bytes; the second, b's random body, does not.
  const spec = { topic: t.topic, partitions: 1, replicationFactor: -1 };
  const configs = { "cleanup.policy": "compact", "max.message.bytes": "20000" };
  await ensureTopic(t.kafka, { ...spec, configs }, SILENT);
  const ids = Array.from({ length: 13 }, (_, i) => `a${String(i).padStart(2, "0")}`);
  const compressible = ids.map((id) => postingSite(id, "a".repeat(65_536)));
  const file = `sites:\n${compressible.join("")}${postingSite("b", incompressible(49_152))}`;
  const applied = await t.run("sites", "apply", await t.file(file));
  assert.equal(applied.code, 1);
  assert.equal(applied.out, [...ids, "b"].map((id) => `+ ${id}\n`).join(""));
  assert.match(
    applied.err,
    new RegExp(
      `Publishing to "${t.topic}" failed after 13 of 14 messages: the topic holds part of this change; run monitor sites apply again to finish it: .`,
    ),
  );
  assert.equal(await t.written(), 13);
  assert.equal(
    (await t.run("sites", "list")).out,
    ids.map((id) => `${id}  https://${id}.example/\n`).join(""),
  );
});

Deno.test("sites list refuses a site id found on two partitions, naming it", async () => {
  await using t = await setup();
  const spec = { topic: t.topic, partitions: 2, replicationFactor: -1 };
  await ensureTopic(t.kafka, { ...spec, configs: { "cleanup.policy": "compact" } }, SILENT);
  {
    await using producer = await openTestProducer(t.kafka);
    const value = JSON.stringify({ version: 1, site: { id: "shop", url: "https://shop/" } });
    await producer.send({
      topic: t.topic,
      messages: [{ key: "shop", value, partition: 1 }, { key: "shop", value, partition: 0 }],
    });
  }
  const listed = await t.run("sites", "list");
  assert.equal(listed.code, 1);
  assert.equal(listed.out, "");
  assert.match(
    listed.err,
    new RegExp(`Key "shop" is on partitions 0 and 1 of topic "${t.topic}": its partition count`),
  );
});
