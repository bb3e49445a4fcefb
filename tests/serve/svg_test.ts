import assert from "node:assert/strict";
import { percent } from "../../src/serve/svg.ts";

Deno.test("percent() shows a share exactly to two decimals, rounding down only what is below", () => {
  assert.equal(percent(57 / 100), "57.00 %");
  assert.equal(percent(0.29), "29.00 %");
  assert.equal(percent(0.99996), "99.99 %");
  assert.equal(percent(9_999 / 10_000), "99.99 %");
  assert.equal(percent(1), "100.00 %");
  assert.equal(percent(0), "0.00 %");
  assert.equal(percent(null), "no data");
});
