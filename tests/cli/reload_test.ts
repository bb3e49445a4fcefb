/**
 * `monitor produce` picks up a changed sites file, and a SIGHUP, without a restart; an invalid
 * new file leaves the running sites in place.
 */
import assert from "node:assert/strict";
import { watchSites } from "../../src/cli/reload.ts";
import { SILENT } from "../../src/log.ts";
import { monitor } from "../_helpers/cli.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import { testEnv, waitFor } from "../_helpers/services.ts";

function sitesYaml(id: string, url: string): string {
  return `sites:\n  - id: ${id}\n    url: ${url}\n    interval: 5s\n`;
}

Deno.test("produce reloads a changed sites file and keeps the running sites when the new one is invalid", async () => {
  await using target = startHttpTarget();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/sites.yaml`;
  const hangups = new EventTarget();
  await Deno.writeTextFile(file, sitesYaml("first", target.url("/code/200")));
  const produce = monitor(["produce", "--config", file], testEnv({ LOG_LEVEL: "debug" }), hangups);
  const logged = (text: string) => () => produce.err().includes(text) || undefined;
  try {
    await waitFor("the first site's check", logged("checked site=first"));

    await Deno.writeTextFile(file, sitesYaml("second", target.url("/code/200")));
    await waitFor("the reload", logged('sites reloaded why="file changed" sites=1'));
    await waitFor("the second site's check", logged("checked site=second"));
    const afterReload = produce.err().slice(produce.err().indexOf("sites reloaded"));
    assert.doesNotMatch(afterReload, /checked site=first/);

    await Deno.writeTextFile(file, "sites:\n  - id: third\n    url: not-a-url\n");
    await waitFor(
      "the rejection",
      logged("sites file rejected, still checking the previous sites"),
    );
    assert.match(produce.err(), /sites\.yaml:3: sites\[0\]\.url must be an absolute http\(s\) URL/);
    const rejectedAt = produce.err().lastIndexOf("sites file rejected");
    await waitFor(
      "a check of the running site after the rejection",
      () => produce.err().indexOf("checked site=second", rejectedAt) > 0 || undefined,
      15_000,
    );

    const reloads = () => produce.err().split("sites reloaded").length - 1;
    await Deno.writeTextFile(file, sitesYaml("second", target.url("/code/200")));
    await waitFor("the reload of the fixed file", () => reloads() === 2 || undefined);
    hangups.dispatchEvent(new Event("hangup"));
    // A late file event may share the reload: why="file changed, SIGHUP".
    const onHangup = /sites reloaded why=("[^"]*)?SIGHUP[^=]* sites=1/;
    await waitFor("the reload on SIGHUP", () => onHangup.test(produce.err()) || undefined);
  } finally {
    produce.stop();
    assert.equal(await produce.code, 0, produce.err());
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchSites() ends at once when its signal was aborted before it started", async () => {
  const dir = await Deno.makeTempDir();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const feed = watchSites(`${dir}/sites.yaml`, { env: {} }, SILENT);
    const ended = await Promise.race([
      feed(() => {}, AbortSignal.abort()).then(() => "ended"),
      new Promise((resolve) => timer = setTimeout(() => resolve("still watching"), 5_000)),
    ]);
    assert.equal(ended, "ended");
  } finally {
    clearTimeout(timer);
    await Deno.remove(dir, { recursive: true });
  }
});
