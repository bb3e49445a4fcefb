import assert from "node:assert/strict";
import { decodeCheckResult, encodeCheckResult } from "../../src/kafka/codec.ts";
import fc from "fast-check";
import { brokenResults, garbage, validResults } from "../_helpers/messages.ts";
import { HTTPS_CONNECTION_DETAILS, makeResult } from "../_helpers/results.ts";
import { type CheckResult, NO_CONNECTION_DETAILS } from "../../src/check/result.ts";

Deno.test("encodeCheckResult() keys by site id and decodeCheckResult() restores the result", () => {
  const result = makeResult({ error: { kind: "dns", message: "no such host" }, up: false });
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

Deno.test("decodeCheckResult() rejects an unknown version, naming it", () => {
  const decoded = decodeCheckResult(JSON.stringify({ ...makeResult(), version: 4 }));
  assert.deepEqual(decoded, {
    ok: false,
    reason: "Message version 4 is not supported: this consumer reads versions 1 to 3",
  });
});

/** A current result with only the fields of an older version. */
function olderMessage(current: CheckResult, version: 1 | 2): Record<string, unknown> {
  const { region: _region, checker: _checker, ...v2 } = current;
  const fields = version === 2
    ? v2
    : Object.fromEntries(Object.entries(v2).filter(([key]) => !(key in NO_CONNECTION_DETAILS)));
  return { ...fields, version };
}

Deno.test("decodeCheckResult() reads a version 1 message in the current shape, details null, version kept", () => {
  const current = makeResult({ certExpiresAt: "2027-01-01T00:00:00.000Z", region: "eu" });
  assert.deepEqual(decodeCheckResult(JSON.stringify(olderMessage(current, 1))), {
    ok: true,
    result: { ...current, ...NO_CONNECTION_DETAILS, region: "default", checker: null, version: 1 },
  });
});

Deno.test("decodeCheckResult() reads a version 2 message as made in the default region by no named checker", () => {
  const current = makeResult({ ...HTTPS_CONNECTION_DETAILS, region: "eu" });
  assert.deepEqual(decodeCheckResult(JSON.stringify(olderMessage(current, 2))), {
    ok: true,
    result: { ...current, region: "default", checker: null, version: 2 },
  });
});

Deno.test("decodeCheckResult() refuses a newer version's fields in an older message", () => {
  const v1 = decodeCheckResult(JSON.stringify({ ...makeResult(), version: 1 }));
  assert.equal(v1.ok, false);
  assert.match(!v1.ok ? v1.reason : "", /Unrecognized key.*dnsMs/);
  const v2 = decodeCheckResult(JSON.stringify({ ...makeResult(), version: 2 }));
  assert.equal(v2.ok, false);
  assert.match(!v2.ok ? v2.reason : "", /Unrecognized key.*region/);
});

Deno.test("decodeCheckResult() refuses a version 3 message without its region or checker, or a region that is no name", () => {
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
