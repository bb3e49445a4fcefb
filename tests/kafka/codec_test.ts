import assert from "node:assert/strict";
import { decodeCheckResult, encodeCheckResult } from "../../src/kafka/codec.ts";
import fc from "fast-check";
import { brokenResults, garbage, validResults } from "../_helpers/messages.ts";
import { HTTPS_CONNECTION_DETAILS, makeResult } from "../_helpers/results.ts";

Deno.test("encodeCheckResult() keys by site id and decodeCheckResult() restores the result", () => {
  const result = makeResult({
    ...HTTPS_CONNECTION_DETAILS,
    error: { kind: "dns", message: "no such host" },
    up: false,
  });
  const message = encodeCheckResult(result);
  assert.equal(message.key, "site-a");
  assert.deepEqual(decodeCheckResult(new TextEncoder().encode(message.value)), {
    ok: true,
    result,
  });
});

Deno.test("decodeCheckResult() rejects a message that is not JSON, saying so", () => {
  const decoded = decodeCheckResult("{not json");
  assert.equal(decoded.ok, false);
  assert.match(!decoded.ok ? decoded.reason : "", /^Message is not JSON/);
});

Deno.test("decodeCheckResult() rejects any version but 1, naming it", () => {
  for (const version of [2, 3, 4, "1", null]) {
    const decoded = decodeCheckResult(JSON.stringify({ ...makeResult(), version }));
    assert.deepEqual(decoded, {
      ok: false,
      reason: `Message version ${
        JSON.stringify(version)
      } is not supported: this consumer reads version 1`,
    });
  }
});

Deno.test("decodeCheckResult() refuses a message without its region or checker, or a region that is no name", () => {
  for (const broken of [{ region: undefined }, { checker: undefined }, { region: "eu west" }]) {
    const decoded = decodeCheckResult(JSON.stringify({ ...makeResult(), ...broken }));
    assert.equal(decoded.ok, false, JSON.stringify(broken));
  }
});

Deno.test("decodeCheckResult() rejects a result with a wrong field, naming the field", () => {
  const decoded = decodeCheckResult(JSON.stringify({ ...makeResult(), statusCode: "200" }));
  assert.equal(decoded.ok, false);
  assert.match(!decoded.ok ? decoded.reason : "", /statusCode/);
});

Deno.test("decodeCheckResult() rejects an empty message", () => {
  assert.deepEqual(decodeCheckResult(null), { ok: false, reason: "Message has no value" });
});

Deno.test("decodeCheckResult() rejects text PostgreSQL cannot store (a NUL), naming the field", () => {
  const result = makeResult({
    up: false,
    error: { kind: "invalid_response", message: "Bad header \u0000" },
  });
  const decoded = decodeCheckResult(JSON.stringify(result));
  assert.deepEqual(decoded, {
    ok: false,
    reason:
      "Message is not a valid check result: error.message: must not contain NUL characters (PostgreSQL cannot store them)",
  });
});

const NOW_MS = Date.UTC(2026, 10, 25);

Deno.test("decodeCheckResult() accepts every valid result and gives it back unchanged", () => {
  fc.assert(
    fc.property(validResults(NOW_MS), (result) => {
      assert.deepEqual(decodeCheckResult(encodeCheckResult(result).value), { ok: true, result });
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("decodeCheckResult() refuses a result broken in any field or contradicting itself", () => {
  fc.assert(
    fc.property(brokenResults(validResults(NOW_MS)), (json) => {
      const decoded = decodeCheckResult(json);
      assert.equal(decoded.ok, false, json);
      assert.match(!decoded.ok ? decoded.reason : "", /^Message (is not|version)/);
    }),
    { numRuns: 3_000 },
  );
});

Deno.test("decodeCheckResult() never throws, whatever the bytes", () => {
  fc.assert(
    fc.property(garbage, (bytes) => {
      assert.equal(decodeCheckResult(bytes).ok, false);
    }),
    { numRuns: 2_000 },
  );
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  assert.equal(decodeCheckResult(deep).ok, false);
});

Deno.test("decodeCheckResult() refuses bytes that are not UTF-8 rather than changing them", () => {
  const json = new TextEncoder().encode(JSON.stringify(makeResult({ siteName: "Caf?" })));
  json[json.indexOf("?".charCodeAt(0))] = 0xe9; // Latin-1 é
  assert.deepEqual(decodeCheckResult(json), { ok: false, reason: "Message is not UTF-8 text" });
});
