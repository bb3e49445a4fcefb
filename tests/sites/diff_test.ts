import assert from "node:assert/strict";
import { diffSites } from "../../src/sites/diff.ts";
import type { SiteMessage } from "../../src/sites/site_message.ts";

function message(id: string, site: Partial<SiteMessage["site"]> = {}): SiteMessage {
  return { version: 1, site: { id, url: `https://${id}.example/`, ...site } };
}

Deno.test("diffSites() finds every site added when the topic is empty", () => {
  const diff = diffSites(new Map(), [message("a"), message("b")]);
  assert.deepEqual(diff, { added: ["a", "b"], changed: [], removed: [], unchanged: 0 });
});

Deno.test("diffSites() sees nothing to do when the topic holds the file's sites", () => {
  const sites = [message("a"), message("b", { interval: "30s" })];
  const current = new Map(sites.map((m) => [m.site.id, m]));
  const diff = diffSites(current, sites);
  assert.deepEqual(diff, { added: [], changed: [], removed: [], unchanged: 2 });
});

Deno.test("diffSites() names the top-level keys that changed, set, changed or unset", () => {
  const before = message("a", { pattern: "ok", interval: "30s", method: "GET" });
  const after = message("a", { url: "https://new.example/", pattern: "ok", method: "POST" });
  const diff = diffSites(new Map([["a", before]]), [after]);
  assert.deepEqual(diff.changed, [{ id: "a", keys: ["url", "method", "interval"] }]);
});

Deno.test("diffSites() does not count the order of keys or headers as a change", () => {
  const before = message("a", { headers: { accept: "text/html", "user-agent": "m" } });
  const after: SiteMessage = {
    version: 1,
    site: {
      headers: { "user-agent": "m", accept: "text/html" },
      url: "https://a.example/",
      id: "a",
    },
  };
  assert.deepEqual(diffSites(new Map([["a", before]]), [after]).unchanged, 1);
});

Deno.test("diffSites() sees a change inside a nested value: a header, a status list, a pattern's flags", () => {
  const cases: [Partial<SiteMessage["site"]>, Partial<SiteMessage["site"]>, string][] = [
    [{ headers: { a: "1" } }, { headers: { a: "2" } }, "headers"],
    [{ headers: { a: "1" } }, { headers: { a: "1", b: "2" } }, "headers"],
    [{ expect_status: [200, "300-399"] }, { expect_status: [200] }, "expect_status"],
    [{ pattern: { regex: "ok", flags: "i" } }, { pattern: { regex: "ok" } }, "pattern"],
    [{ pattern: "ok" }, { pattern: { regex: "ok" } }, "pattern"],
  ];
  for (const [before, after, key] of cases) {
    const diff = diffSites(new Map([["a", message("a", before)]]), [message("a", after)]);
    assert.deepEqual(diff.changed, [{ id: "a", keys: [key] }], JSON.stringify([before, after]));
  }
});

Deno.test("diffSites() lists removed sites sorted by id, added and changed ones in the file's order", () => {
  const current = new Map([
    ["zeta", message("zeta")],
    ["alpha", message("alpha")],
    ["kept", message("kept")],
    ["moved", message("moved")],
  ]);
  const desired = [
    message("new-2"),
    message("moved", { url: "https://moved.example/v2" }),
    message("kept"),
    message("new-1"),
  ];
  assert.deepEqual(diffSites(current, desired), {
    added: ["new-2", "new-1"],
    changed: [{ id: "moved", keys: ["url"] }],
    removed: ["alpha", "zeta"],
    unchanged: 1,
  });
});

Deno.test("diffSites() replaces a message that is not a site, and removes one the file lacks", () => {
  const current = new Map([
    ["a", { unreadable: "Message is not UTF-8 JSON" }],
    ["b", { unreadable: "Message version 2 is not supported" }],
  ]);
  const diff = diffSites(current, [message("a")]);
  assert.deepEqual(diff, {
    added: [],
    changed: [{ id: "a", keys: ["id", "url"], unreadable: "Message is not UTF-8 JSON" }],
    removed: ["b"],
    unchanged: 0,
  });
});

Deno.test("diffSites() sees no change in a -0 of the file, which the topic holds as 0", () => {
  const onTopic = JSON.parse(JSON.stringify(message("a", { cert_min_days: -0 })));
  const diff = diffSites(new Map([["a", onTopic]]), [message("a", { cert_min_days: -0 })]);
  assert.equal(diff.unchanged, 1);
});
