/**
 * `monitor produce` without `--config`, as a newcomer may first run it: it says what it checks
 * (the sites topic, shared by its region's group) and, while that topic is empty, what is missing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { monitor } from "../_helpers/cli.ts";
import { testEnv, waitFor } from "../_helpers/services.ts";

/** Runs `monitor produce` until the checker has joined its group, and returns its log. */
async function logUntilAssigned(env: Record<string, string>, sites: number): Promise<string> {
  const produce = monitor(["produce"], env);
  try {
    const assigned = new RegExp(`sites assigned .* sites=${sites}$`, "m");
    await waitFor(
      `a checker holding ${sites} sites`,
      () => assigned.test(produce.err()) || undefined,
    );
  } finally {
    produce.stop();
    assert.equal(await produce.code, 0, produce.err());
  }
  return produce.err();
}

Deno.test("produce without --config names its sites topic, group and region, and says when that topic is empty", async () => {
  const env = testEnv({ LOG_LEVEL: "info", MONITOR_REGION: "eu" });
  const topic = env.KAFKA_SITES_TOPIC!;
  const following =
    `INFO no --config: checking the sites of the sites topic that the region's checkers share (--config FILE checks a file instead) topic=${topic} groupId=monitor-checkers-eu region=eu\n`;
  const empty =
    `WARN the sites topic is empty: nothing to check until "monitor sites apply FILE" publishes sites to it topic=${topic}\n`;

  const before = await logUntilAssigned(env, 0);
  assert.ok(before.includes(following), before);
  assert.ok(before.includes(empty), before);

  // Once a site is published, nothing is missing.
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/sites.yaml`;
    await Deno.writeTextFile(file, "sites:\n  - id: a\n    url: http://127.0.0.1:9/\n");
    const applied = monitor(["sites", "apply", file], env);
    assert.equal(await applied.code, 0, applied.err());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const after = await logUntilAssigned(env, 1);
  assert.ok(after.includes(following), after);
  assert.ok(!after.includes("is empty"), after);
});
