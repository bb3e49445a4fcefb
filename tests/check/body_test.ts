/**
 * How a check reads a body: kept only when there is a pattern to look for, within the memory the
 * checker's checks share.
 */
import assert from "node:assert/strict";
import { bodyBudget } from "../../src/check/body.ts";
import { checkSite } from "../../src/check/check_site.ts";
import { startHttpTarget } from "../_helpers/http_target.ts";
import { waitFor } from "../_helpers/services.ts";
import { siteFor } from "../_helpers/sites.ts";

const KIB = 1024;

/**
 * A target with `/size/:kib` (that many KiB of "a", then "needle") and `/stall/:kib` (that many
 * KiB of "a", then nothing until the client leaves).
 */
function startBodyTarget() {
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    (request) => {
      const [, route, kib] = new URL(request.url).pathname.split("/");
      const filler = new Uint8Array(Number(kib) * KIB).fill(0x61);
      if (route === "size") {
        return new Response(new Blob([filler, "needle"]));
      }
      return new Response(new ReadableStream({ start: (stream) => stream.enqueue(filler) }));
    },
  );
  return {
    url: (path: string) => `http://127.0.0.1:${server.addr.port}${path}`,
    [Symbol.asyncDispose]: async () => {
      controller.abort();
      await server.finished;
    },
  };
}

Deno.test("checkSite() keeps no body without a pattern: it takes nothing from the budget", async () => {
  await using target = startBodyTarget();
  const budget = bodyBudget(KIB);
  const result = await checkSite(siteFor(target.url("/size/400")), { bodyBudget: budget });
  assert.equal(result.up, true, result.error?.message);
  assert.equal(result.patternMatched, null);
  assert.equal(budget.heldBytes(), 0);
});

Deno.test("checkSite() fails a body larger than the budget as body_too_large, naming the setting", async () => {
  await using target = startBodyTarget();
  const budget = bodyBudget(64 * KIB);
  const site = siteFor(target.url("/size/400"), { pattern: "needle" });
  const result = await checkSite(site, { bodyBudget: budget });
  assert.equal(result.error?.kind, "body_too_large");
  assert.match(result.error.message, /CHECK_BODY_MEMORY_BYTES \(65536\)/);
  assert.equal(result.patternMatched, null);
  assert.equal(budget.heldBytes(), 0, "its bytes are given back");
});

Deno.test("checkSite() gives up the largest body in flight for a smaller one, at once", async () => {
  await using target = startBodyTarget();
  const budget = bodyBudget(1024 * KIB);
  const big = siteFor(target.url("/stall/800"), {
    pattern: "needle",
    max_body_bytes: String(16 * 1024 * KIB),
    timeout: "20s",
  });
  const started = performance.now();
  const bigResult = checkSite(big, { bodyBudget: budget });
  await waitFor("the big body held", () => budget.heldBytes() >= 800 * KIB || undefined, 10_000);
  const small = siteFor(target.url("/size/400"), { pattern: "needle$" });
  const smallResult = await checkSite(small, { bodyBudget: budget });
  assert.equal(smallResult.up, true, smallResult.error?.message);
  assert.equal(smallResult.patternMatched, true);
  const { error } = await bigResult;
  assert.equal(error?.kind, "body_too_large");
  assert.match(error.message, /CHECK_BODY_MEMORY_BYTES/);
  assert.ok(performance.now() - started < 15_000, "given up, not timed out");
  assert.equal(budget.heldBytes(), 0);
});

Deno.test("checkSite() matches from the first character of a body that starts with a byte order mark", async () => {
  await using target = startHttpTarget();
  const site = siteFor(target.url("/bytes/efbbbf68656c6c6f"), { pattern: "^hello$" });
  const result = await checkSite(site, { bodyBudget: bodyBudget(KIB) });
  assert.equal(result.patternMatched, true, result.error?.message);
});
