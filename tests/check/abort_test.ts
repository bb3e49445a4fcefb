/**
 * A check called off by its signal (the monitor is stopping) ends at once in every phase, with
 * verification on and off, and rejects with the signal's reason instead of producing a result: the site
 * did nothing wrong, so there is nothing true to record about it.
 */
import assert from "node:assert/strict";
import { checkSite } from "../../src/check/check_site.ts";
import { startHttpTarget, startSilentTarget } from "../_helpers/http_target.ts";
import { siteFor } from "../_helpers/sites.ts";

/** Far longer than any test may take: a check that honours its timeout instead fails the test. */
const LONG = { timeout: "60s", interval: "2m" };
/** "At once", allowing for a loaded machine. */
const PROMPT_MS = 1_000;

const CLIENTS = [
  { name: "tls_verify: true", extra: {} },
  { name: "tls_verify: false", extra: { tls_verify: "false" } },
] as const;

/** Times `promise`, which must reject with exactly `reason`. */
async function rejectsWith(promise: Promise<unknown>, reason: unknown): Promise<number> {
  const started = performance.now();
  await assert.rejects(promise, (error) => error === reason);
  return performance.now() - started;
}

for (const client of CLIENTS) {
  Deno.test(`checkSite() (${client.name}) with an aborted signal rejects with its reason and sends nothing`, async () => {
    await using target = startHttpTarget();
    const reason = new Error("stopping");
    const site = siteFor(target.url("/code/200"), { ...LONG, ...client.extra });
    await rejectsWith(checkSite(site, { signal: AbortSignal.abort(reason) }), reason);
    assert.deepEqual(target.peers, []);
  });

  Deno.test(`checkSite() (${client.name}) called off while no headers arrive rejects with the reason at once`, async () => {
    await using target = startHttpTarget();
    const stop = new AbortController();
    const reason = new Error("stopping");
    const site = siteFor(target.url("/sleep/60000"), { ...LONG, ...client.extra });
    const checking = checkSite(site, { signal: stop.signal });
    await waitUntil(() => target.peers!.length === 1);
    const aborted = performance.now();
    stop.abort(reason);
    await rejectsWith(checking, reason);
    const ms = performance.now() - aborted;
    assert.ok(ms < PROMPT_MS, `took ${ms} ms after the abort`);
  });

  Deno.test(`checkSite() (${client.name}) called off during a TLS handshake that stalls rejects with the reason at once`, async () => {
    await using target = startSilentTarget();
    const stop = new AbortController();
    const reason = new Error("stopping");
    const site = siteFor(target.url("/"), { ...LONG, ...client.extra });
    const checking = checkSite(site, { signal: stop.signal });
    setTimeout(() => stop.abort(reason), 200);
    const ms = await rejectsWith(checking, reason);
    assert.ok(ms < 200 + PROMPT_MS, `took ${ms} ms`);
  });

  Deno.test(`checkSite() (${client.name}) called off while the body stalls rejects with the reason at once`, async () => {
    await using target = startHttpTarget();
    const stop = new AbortController();
    const reason = new Error("stopping");
    const site = siteFor(target.url("/slow-body/60000"), { ...LONG, ...client.extra });
    const checking = checkSite(site, { signal: stop.signal });
    // The target sends the headers at once and then nothing.
    await waitUntil(() => target.peers!.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const aborted = performance.now();
    stop.abort(reason);
    await rejectsWith(checking, reason);
    const ms = performance.now() - aborted;
    assert.ok(ms < PROMPT_MS, `took ${ms} ms after the abort`);
  });

  Deno.test(`checkSite() (${client.name}) with a signal never aborted still reports its own timeout`, async () => {
    await using target = startHttpTarget();
    const stop = new AbortController();
    const site = siteFor(target.url("/sleep/5000"), { timeout: "300ms", ...client.extra });
    const result = await checkSite(site, { signal: stop.signal });
    assert.equal(result.up, false);
    assert.equal(result.error?.kind, "timeout");
  });
}

/** Polls `condition` every 10 ms for up to 5 s. */
async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("Timed out waiting for the request");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
