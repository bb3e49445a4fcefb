/**
 * `monitor watch` against the real broker: the interactive view in a real terminal (tmux), and
 * the line output for pipes.
 */
import assert from "node:assert/strict";
import { encodeCheckResult } from "../../src/kafka/codec.ts";
import { monitor } from "../_helpers/cli.ts";
import { makeResult } from "../_helpers/results.ts";
import { testEnv, testProducer, waitFor } from "../_helpers/services.ts";

const MOD = new URL("../../mod.ts", import.meta.url).pathname;

function results(now = Date.now()) {
  const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();
  return [
    makeResult({ siteId: "shop", siteName: "Shop", checkedAt: at(70), responseTimeMs: 120 }),
    makeResult({ siteId: "shop", siteName: "Shop", checkedAt: at(40), responseTimeMs: 180 }),
    makeResult({ siteId: "shop", siteName: "Shop", checkedAt: at(10), responseTimeMs: 150 }),
    makeResult({
      siteId: "api",
      siteName: "API",
      checkedAt: at(5),
      up: false,
      statusCode: 503,
      responseTimeMs: 14,
      error: { kind: "unexpected_status", message: "Status 503" },
    }),
  ];
}

/** A tmux server of the test's own, 110 × 16, running `command`. */
async function tmux(command: string) {
  const socket = `monitor-test-${crypto.randomUUID().slice(0, 8)}`;
  const run = async (...args: string[]) => {
    const output = await new Deno.Command("tmux", { args: ["-L", socket, ...args] }).output();
    return new TextDecoder().decode(output.stdout);
  };
  await run("new-session", "-d", "-s", "watch", "-x", "110", "-y", "16", command);
  return {
    capture: () => run("capture-pane", "-p", "-t", "watch"),
    keys: (...keys: string[]) => run("send-keys", "-t", "watch", ...keys),
    kill: () => run("kill-server"),
  };
}

Deno.test("monitor watch in a terminal shows the sites from the backfill and live, and q quits with 0", async () => {
  const env = testEnv();
  await using kafka = await testProducer(env, 2);
  await kafka.producer.send({ topic: kafka.topic, messages: results().map(encodeCheckResult) });
  const dir = await Deno.makeTempDir();
  const exitFile = `${dir}/exit`;
  const assignments = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(" ");
  const terminal = await tmux(
    `env ${assignments} NO_COLOR=1 '${Deno.execPath()}' run --allow-all '${MOD}' watch; echo $? > '${exitFile}'; sleep 60`,
  );
  try {
    const screen = await waitFor("both sites on screen", async () => {
      const text = await terminal.capture();
      return text.includes("Shop") && text.includes("API") ? text : undefined;
    });
    const lines = screen.split("\n");
    const row = (name: string) => lines.find((l) => l.includes(name)) ?? "";
    assert.match(lines[0]!, /^status +site +code +last +uptime +p95 +recent +pattern +error +age/);
    assert.match(row("API"), /^✖ down +API +503 +14ms +0\.0% +14ms +▄ +unexpected_status +\d+s/);
    assert.match(row("Shop"), /^✔ up +Shop +200 +150ms +100\.0% +180ms +▁█▅ +\d+s/);
    assert.ok(lines.indexOf(row("API")) < lines.indexOf(row("Shop")), "down sorts first");
    assert.match(screen, /topic test-\w+ · 2 sites/);

    // Live: a new site appears without a restart.
    await kafka.producer.send({
      topic: kafka.topic,
      messages: [makeResult({ siteId: "blog", siteName: "Blog" })].map(encodeCheckResult),
    });
    const live = await waitFor("the new site", async () => {
      const text = await terminal.capture();
      return text.includes("Blog") ? text : undefined;
    });
    // Keep a capture to look at (the README's is made the same way).
    await Deno.writeTextFile(`${dir}/screen.txt`, live);

    await terminal.keys("q");
    const code = await waitFor("monitor watch to exit", async () => {
      try {
        return (await Deno.readTextFile(exitFile)).trim();
      } catch {
        return undefined;
      }
    });
    assert.equal(code, "0");
  } finally {
    await terminal.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("monitor watch --plain and --json print one line per check for pipes", async () => {
  const env = testEnv();
  await using kafka = await testProducer(env, 2);
  const sent = [
    ...results(),
    makeResult({
      siteId: "evil",
      up: false,
      statusCode: null,
      responseTimeMs: null,
      timeToHeadersMs: null,
      // From a producer that did not clean it: clears the screen if printed raw.
      error: { kind: "invalid_response", message: "Bad header \u001b[2J" },
      // C1's CSI acts on a terminal too, and JSON.stringify leaves it raw.
      certSubject: "CN=\u009b2J",
    }),
  ];
  await kafka.producer.send({ topic: kafka.topic, messages: sent.map(encodeCheckResult) });
  for (const format of ["--plain", "--json"]) {
    const watch = monitor(["watch", format, "--minutes", "5"], env);
    try {
      await waitFor(
        "every check printed",
        () => watch.out().split("\n").length > sent.length || undefined,
      );
    } finally {
      watch.stop();
      assert.equal(await watch.code, 0, watch.err());
    }
    const lines = watch.out().trimEnd().split("\n").toSorted();
    if (format === "--json") {
      assert.deepEqual(
        lines.map((l) => JSON.parse(l).checkId).toSorted(),
        sent.map((r) => r.checkId).toSorted(),
      );
      assert.ok(lines.some((l) => JSON.parse(l).certSubject === "CN=\u009b2J"));
      for (const line of lines) {
        const { region, checker } = JSON.parse(line);
        assert.deepEqual({ region, checker }, { region: "default", checker: "test-host:1" });
      }
      // deno-lint-ignore no-control-regex -- looking for control characters is the point
      assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(watch.out().replaceAll("\n", "")));
    } else {
      assert.ok(
        lines.some((l) =>
          / {2}DOWN {2}api {2}default {2}503 {2}14ms {2}unexpected_status: Status 503$/.test(l)
        ),
        lines.join("\n"),
      );
      assert.equal(
        lines.filter((l) => / {2}UP {4}shop {2}default {2}200 {2}\d+ms$/.test(l)).length,
        3,
      );
      assert.ok(lines.some((l) => l.endsWith("invalid_response: Bad header \uFFFD[2J")));
      assert.ok(!watch.out().includes("\u001b"));
    }
  }
});

Deno.test("monitor watch --plain and --json print a check the topic holds twice once", async () => {
  const env = testEnv();
  // One partition, so that the last message read means every one before it was read.
  await using kafka = await testProducer(env, 1);
  const checks = results();
  const last = makeResult({ siteId: "last", siteName: "Last" });
  // What a producer leaves when it sends a batch again after part of it was stored (a plain
  // producer does, on a topic whose partitions are not all ready yet): each check at two offsets.
  await kafka.producer.send({
    topic: kafka.topic,
    messages: [...checks, ...checks, last].map(encodeCheckResult),
  });
  for (const format of ["--plain", "--json"]) {
    const watch = monitor(["watch", format, "--minutes", "5"], env);
    try {
      await waitFor("the last check printed", () => watch.out().includes("last") || undefined);
    } finally {
      watch.stop();
      assert.equal(await watch.code, 0, watch.err());
    }
    const lines = watch.out().trimEnd().split("\n");
    assert.equal(lines.length, checks.length + 1, lines.join("\n"));
    if (format === "--json") {
      assert.deepEqual(
        lines.map((l) => JSON.parse(l).checkId).toSorted(),
        [...checks, last].map((r) => r.checkId).toSorted(),
      );
    }
  }
});

Deno.test("monitor watch says when the topic does not exist, and keeps trying", async () => {
  const env = testEnv({ LOG_LEVEL: "info" });
  const watch = monitor(["watch", "--plain"], env);
  try {
    await waitFor(
      "the missing topic reported",
      () => watch.err().includes(`Topic "${env.KAFKA_TOPIC}" does not exist yet`) || undefined,
    );
    assert.match(watch.err(), /; trying again retryInMs=\d+/);
    assert.doesNotMatch(watch.err(), /\n\s+at /, "no stack trace");
  } finally {
    watch.stop();
    assert.equal(await watch.code, 0, watch.err());
  }
});

Deno.test("monitor watch --region shows the checks of those regions only, --json with their region and checker", async () => {
  const env = testEnv();
  await using kafka = await testProducer(env, 2);
  const checks = (region: string) =>
    results().map((result) => ({ ...result, region, checker: `${region}-host:${region.length}` }));
  // From a checker not told its region: "default".
  const unnamed = makeResult({ siteId: "plain", siteName: "Plain" });
  await kafka.producer.send({
    topic: kafka.topic,
    messages: [...checks("eu"), ...checks("us"), ...checks("ap"), unnamed].map(encodeCheckResult),
  });

  const json = monitor(["watch", "--json", "--region", "eu", "--region", "ap,default"], env);
  try {
    await waitFor(
      "the checks of eu, ap and default",
      () => json.out().split("\n").length > 2 * results().length + 1 || undefined,
    );
  } finally {
    json.stop();
    assert.equal(await json.code, 0, json.err());
  }
  const lines = json.out().trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2 * results().length + 1, "no check of us");
  assert.deepEqual(
    [...new Set(lines.map((l) => `${l.region} ${l.checker}`))].toSorted(),
    ["ap ap-host:2", "default test-host:1", "eu eu-host:2"],
  );

  const wrong = monitor(["watch", "--plain", "--region", "eu,e u"], env);
  assert.equal(await wrong.code, 2);
  assert.match(wrong.err(), /--region must be a region's name .*: current value is "e u"/);

  const assignments = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(" ");
  const terminal = await tmux(
    `env ${assignments} NO_COLOR=1 '${Deno.execPath()}' run --allow-all '${MOD}' watch --region eu,us; sleep 60`,
  );
  try {
    const screen = await waitFor("both sites in both regions", async () => {
      const text = await terminal.capture();
      return (text.match(/^(✔|✖) /gm) ?? []).length === 4 ? text : undefined;
    });
    const lines = screen.split("\n");
    assert.match(lines[0]!, /^status +site +region +code +last +uptime +p95 +recent +/);
    assert.match(lines[1]!, /^✖ down +API +eu +503 +14ms/);
    assert.match(lines[2]!, /^✖ down +API +us +503 +14ms/);
    assert.match(lines[3]!, /^✔ up +Shop +eu +200 +150ms/);
    assert.match(lines[4]!, /^✔ up +Shop +us +200 +150ms/);
    assert.doesNotMatch(screen, / ap | default /);
    assert.match(screen, /· 4 rows · 2 sites · 2 regions ·/);

    await terminal.keys("Down", "Down", "Enter");
    const detail = await waitFor("the detail pane", async () => {
      const text = await terminal.capture();
      return text.includes("checker") ? text : undefined;
    });
    assert.match(detail, /^✖ down API \(api\) — /m);
    assert.match(detail, /^region us · checker us-host:2 · also eu ✖ down$/m);
  } finally {
    await terminal.kill();
  }
});
