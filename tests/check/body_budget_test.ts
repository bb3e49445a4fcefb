import assert from "node:assert/strict";
import { bodyBudget, defaultBodyBytes } from "../../src/check/body.ts";

/** A claim that counts how often it was evicted. */
function claimOf(budget: ReturnType<typeof bodyBudget>) {
  const evictions = { count: 0 };
  const claim = budget.claim(() => evictions.count++);
  return { claim, evictions };
}

Deno.test("bodyBudget() grants bytes while they fit and takes them back when a claim is disposed", () => {
  const budget = bodyBudget(100);
  const a = claimOf(budget);
  const b = claimOf(budget);
  assert.equal(a.claim.take(40), true);
  assert.equal(b.claim.take(60), true);
  assert.equal(budget.heldBytes(), 100);
  a.claim[Symbol.dispose]();
  assert.equal(budget.heldBytes(), 60);
  a.claim[Symbol.dispose](); // twice is harmless
  assert.equal(budget.heldBytes(), 60);
  b.claim[Symbol.dispose]();
  assert.equal(budget.heldBytes(), 0);
  assert.deepEqual([a.evictions.count, b.evictions.count], [0, 0]);
});

Deno.test("bodyBudget() refuses a body larger than the whole budget, which gives its bytes back", () => {
  const budget = bodyBudget(100);
  const a = claimOf(budget);
  assert.equal(a.claim.take(70), true);
  assert.equal(a.claim.take(31), false);
  assert.equal(budget.heldBytes(), 0);
  assert.equal(a.claim.take(1), false, "a refused claim is closed");
  assert.equal(a.evictions.count, 0, "the asking claim is refused, not evicted");
});

Deno.test("bodyBudget() gives up the largest body for a smaller one that needs room", () => {
  const budget = bodyBudget(100);
  const big = claimOf(budget);
  const middle = claimOf(budget);
  const small = claimOf(budget);
  assert.equal(big.claim.take(60), true);
  assert.equal(middle.claim.take(30), true);
  assert.equal(small.claim.take(5), true);
  assert.equal(small.claim.take(10), true);
  assert.deepEqual([big.evictions.count, middle.evictions.count, small.evictions.count], [1, 0, 0]);
  assert.equal(budget.heldBytes(), 45);
  assert.equal(big.claim.take(1), false, "an evicted claim takes nothing more");
  big.claim[Symbol.dispose]();
  assert.equal(budget.heldBytes(), 45, "disposing of an evicted claim gives nothing back twice");
});

Deno.test("bodyBudget() gives up the asking body rather than one no larger than it would become", () => {
  const budget = bodyBudget(100);
  const other = claimOf(budget);
  const asking = claimOf(budget);
  assert.equal(other.claim.take(50), true);
  assert.equal(asking.claim.take(40), true);
  assert.equal(asking.claim.take(11), false); // it would hold 51; the other holds 50
  assert.equal(other.evictions.count, 0);
  assert.equal(budget.heldBytes(), 50);
  assert.equal(other.claim.take(50), true, "the room it gave back is free again");
});

Deno.test("defaultBodyBytes() is a quarter of the heap limit", () => {
  assert.equal(defaultBodyBytes(256 * 2 ** 20), 64 * 2 ** 20);
  assert.equal(defaultBodyBytes(4_395_630_592), 1_098_907_648);
});
