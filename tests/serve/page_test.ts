import assert from "node:assert/strict";
import { duration } from "../../src/serve/page.ts";

Deno.test("duration() shows the two largest units, or seconds under a minute", () => {
  assert.equal(duration(3 * 86_400_000 + 4 * 3_600_000 + 60_000), "3 d 4 h");
  assert.equal(duration(7_500_000), "2 h 5 min");
  assert.equal(duration(5 * 60_000 + 59_000), "5 min");
  assert.equal(duration(40_999), "40 s");
  assert.equal(duration(-5), "0 s");
});
