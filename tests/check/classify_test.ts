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
