import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

Deno.test("monitor --version prints the version written in deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  // As a process of its own, so that mod.ts's main() and its stdout are what is tested.
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("mod.ts", ROOT).pathname, "--version"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(code, 0, decode(stderr));
  assert.equal(decode(stdout), `${config.version}\n`);
});
