import assert from "node:assert/strict";
import { backoffMs, settledWithin, sleep } from "../src/backoff.ts";

Deno.test("backoffMs() doubles from firstMs up to maxMs", () => {
  assert.deepEqual([backoffMs(1), backoffMs(3), backoffMs(20)], [500, 2_000, 30_000]);
  assert.equal(backoffMs(2, { firstMs: 300, maxMs: 5_000 }), 600);
});

Deno.test("settledWithin() says how a promise stands after at most ms, and never rejects", async () => {
  assert.deepEqual(await settledWithin(Promise.resolve(1), 10), { status: "fulfilled", value: 1 });
  assert.deepEqual(await settledWithin(new Promise(() => {}), 10), { status: "pending" });
});

Deno.test("sleep() returns at once when the signal is aborted", async () => {
  const startedMs = performance.now();
  await sleep(10_000, AbortSignal.abort());
  assert.ok(performance.now() - startedMs < 1_000, "returns at once when aborted");
});
