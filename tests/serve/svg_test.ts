import assert from "node:assert/strict";
import { html, percent } from "../../src/serve/svg.ts";

Deno.test("percent() shows a share exactly to two decimals, rounding down only what is below", () => {
  assert.equal(percent(57 / 100), "57.00 %");
  assert.equal(percent(0.29), "29.00 %");
  assert.equal(percent(0.99996), "99.99 %");
  assert.equal(percent(9_999 / 10_000), "99.99 %");
  assert.equal(percent(1), "100.00 %");
  assert.equal(percent(0), "0.00 %");
  assert.equal(percent(null), "no data");
});

Deno.test("html() escapes markup and turns controls, a bidirectional override among them, into U+FFFD", () => {
  assert.equal(
    html(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
  assert.equal(html("a\u202eb\u0007c"), "a\uFFFDb\uFFFDc");
});
