import assert from "node:assert/strict";
import { classifyFetchError } from "../../src/check/classify.ts";

Deno.test("classifyFetchError() keeps control characters a server sent out of the message", () => {
  const error = new TypeError("fetch failed", {
    cause: new Error("invalid HTTP header parsed: \u001b[2J\u0000x\u007f"),
  });
  const { kind, message } = classifyFetchError(error, new AbortController().signal);
  assert.equal(kind, "invalid_response");
  assert.equal(message, "invalid HTTP header parsed: \uFFFD[2J\uFFFDx\uFFFD");
});

Deno.test("classifyFetchError() tells each kind by the error's code, leading the message with it", () => {
  const cases = [
    ["ENOTFOUND", "getaddrinfo ENOTFOUND a.invalid", "dns"],
    ["ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1", "refused"],
    ["CERT_HAS_EXPIRED", "certificate has expired", "tls"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match", "tls"],
    ["ECONNRESET", "socket hang up", "reset"],
    ["HPE_INVALID_CONSTANT", "Expected HTTP/", "invalid_response"],
    ["Z_DATA_ERROR", "incorrect header check", "invalid_response"],
    ["ERR_DENIED_ADDRESS", "169.254.169.254 is in a network checks may not reach", "denied"],
    ["EHOSTUNREACH", "connect EHOSTUNREACH 10.0.0.1:80", "connection"],
  ] as const;
  for (const [code, message, kind] of cases) {
    const error = Object.assign(new Error(message), { code });
    const classified = classifyFetchError(error, new AbortController().signal);
    assert.equal(classified.kind, kind, code);
    assert.ok(classified.message.includes(code), classified.message);
  }
});

Deno.test("classifyFetchError() says timeout once the check's timeout has fired, whatever was thrown", () => {
  const error = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
  assert.equal(classifyFetchError(error, AbortSignal.abort()).kind, "timeout");
});
