import assert from "node:assert/strict";
import { recentCheckIds } from "../../src/watch/seen.ts";

Deno.test("recentCheckIds() tells an id seen among the latest ones, and forgets older ones", () => {
  const seen = recentCheckIds(2);
  assert.deepEqual(["a", "b", "a", "c", "a"].map((id) => seen(id)), [
    false,
    false,
    true,
    false,
    false,
  ]);
});
