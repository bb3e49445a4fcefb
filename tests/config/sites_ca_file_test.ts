/**
 * A site's `ca_file` goes on the sites topic, kept for good and read by every checker: only
 * certificates may travel. A file with a private key in it (a server's key and certificate bundle,
 * as `scripts/services.sh` writes for the broker) is refused where it is named, whatever the key's
 * label, by every command that reads a sites file.
 */
import assert from "node:assert/strict";
import { monitor } from "../_helpers/cli.ts";
import { closedPort } from "../_helpers/http_target.ts";
import { ConfigError, formatProblem } from "../../src/errors.ts";
import { parseSites, parseSitesAsWritten } from "../../src/sites/file.ts";
import { siteMessages } from "../../src/sites/site_message.ts";

const testdata = (name: string) => new URL(`../testdata/${name}`, import.meta.url).pathname;
const CA = Deno.readTextFileSync(testdata("tls/ca.pem"));
const KEY = Deno.readTextFileSync(testdata("tls/localhost.key"));

const directory = await Deno.makeTempDir();
globalThis.addEventListener("unload", () => Deno.removeSync(directory, { recursive: true }));

/** A key block under `label`, framed as the tool that writes that kind of key frames it. */
function keyBlock(label: string, frame = (line: string) => `-----${line}-----`): string {
  const body = KEY.split("\n").filter((line) => line !== "" && !line.startsWith("-----"));
  return `${frame(`BEGIN ${label}`)}\n${body.join("\n")}\n${frame(`END ${label}`)}\n`;
}

const BUNDLES: Record<string, string> = {
  "PRIVATE KEY": `${KEY}${CA}`,
  "RSA PRIVATE KEY": `${CA}${keyBlock("RSA PRIVATE KEY")}`,
  "EC PRIVATE KEY": `${keyBlock("EC PRIVATE KEY")}${CA}`,
  "DSA PRIVATE KEY": `${keyBlock("DSA PRIVATE KEY")}${CA}`,
  "ENCRYPTED PRIVATE KEY": `${keyBlock("ENCRYPTED PRIVATE KEY")}${CA}`,
  "OPENSSH PRIVATE KEY": `${keyBlock("OPENSSH PRIVATE KEY")}${CA}`,
  "ANY PRIVATE KEY": `${keyBlock("ANY PRIVATE KEY")}${CA}`,
  "PGP PRIVATE KEY BLOCK": `${keyBlock("PGP PRIVATE KEY BLOCK")}${CA}`,
  "SSH2 ENCRYPTED PRIVATE KEY": `${
    keyBlock("SSH2 ENCRYPTED PRIVATE KEY", (line) => `---- ${line} ----`)
  }${CA}`,
  "CRLF line ends": `${KEY}${CA}`.replaceAll("\n", "\r\n"),
  "lower case": `${CA}${keyBlock("private key")}`,
};

const MESSAGE =
  "holds a private key: a CA file must hold certificates only (what it holds goes to every checker); name the CA certificate, not a key and certificate bundle";

/** A sites file whose second site's `ca_file`, on line 7, is `caFile`. */
async function sitesFile(name: string, caFile: string): Promise<string> {
  const path = `${directory}/${name}.yaml`;
  await Deno.writeTextFile(
    path,
    `sites:
  - id: a
    url: https://a.example/
  - id: b
    url: https://b.example/
    # the CA of b
    ca_file: ${JSON.stringify(caFile)}
`,
  );
  return path;
}

function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map(formatProblem);
  }
  return assert.fail("the file was accepted");
}

for (const [label, text] of Object.entries(BUNDLES)) {
  Deno.test(`a ca_file with a private key (${label}) is refused at its line, for checking and for publishing`, async () => {
    const pem = `${directory}/${label.replaceAll(" ", "-")}.pem`;
    await Deno.writeTextFile(pem, text);
    const path = await sitesFile(label.replaceAll(" ", "-"), pem);
    const yaml = await Deno.readTextFile(path);
    const expected = [`${path}:7: sites[1].ca_file ${JSON.stringify(pem)} ${MESSAGE}`];
    assert.deepEqual(problemsOf(() => parseSites(yaml, path)), expected);
    assert.deepEqual(problemsOf(() => parseSitesAsWritten(yaml, path)), expected);
  });
}

Deno.test("monitor produce --config and monitor sites apply exit 2 on a key and certificate bundle, before connecting", async () => {
  const pem = `${directory}/broker-keystore.pem`;
  await Deno.writeTextFile(pem, `${KEY}${CA}`);
  const path = await sitesFile("bundle", pem);
  const env = { KAFKA_BROKERS: `127.0.0.1:${closedPort()}` };
  for (const args of [["produce", "--once", "--config", path], ["sites", "apply", path]]) {
    const run = monitor(args, env);
    assert.equal(await run.code, 2, run.err());
    assert.equal(
      run.err(),
      `${path}:7: sites[1].ca_file ${
        JSON.stringify(pem)
      } ${MESSAGE}\n1 problem found; nothing was started\n`,
    );
  }
});

Deno.test("only the certificates of a ca_file go on the sites topic, without what is around them", async () => {
  const pem = `${directory}/commented.pem`;
  await Deno.writeTextFile(pem, `# the test CA\nsubject=CN = test\n${CA}\nmore text\n`);
  const path = await sitesFile("commented", pem);
  const file = await Deno.readTextFile(path);
  const [, b] = siteMessages(parseSitesAsWritten(file, path), path);
  assert.equal(b?.site.ca_cert, `${CA.trim()}\n`);
  assert.equal(parseSites(file, path)[1]?.caCert, `${CA.trim()}\n`);
});
