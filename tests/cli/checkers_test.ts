/**
 * Checkers share the sites topic's sites through Kafka (issue 14), shown with real processes on
 * the real broker: three checkers of region `a` and one of region `b` check 300 sites on a loopback
 * target that records every request with the region its User-Agent names. One checker of `a` is
 * killed, a fourth one joins, and an edited sites file is applied, while the target and the
 * results topic tell who checked what, when.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readSettings } from "../../src/config/settings.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { startConsumer } from "../../src/kafka/consumer.ts";
import { SILENT } from "../../src/log.ts";
import { monitor, type MonitorProcess, spawnMonitor } from "../_helpers/cli.ts";
import { testEnv, waitFor } from "../_helpers/services.ts";

const SITES = 300;
const INTERVAL_MS = 5_000;
/** KAFKA_SESSION_TIMEOUT_MS of the checkers (the broker's least). */
const SESSION_MS = 6_000;
/** Room for a rebalance, process start-up and a busy shared machine. */
const SLACK_MS = 4_000;

/** One request the target received. */
interface Request {
  readonly path: string;
  readonly region: string;
  readonly atMs: number;
}

/** A loopback target that answers 200 to everything and records each request. */
function startRecorder() {
  const requests: Request[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const region = /; region=([^)]+)\)/.exec(request.headers.get("user-agent") ?? "")?.[1];
    requests.push({ path: new URL(request.url).pathname, region: region ?? "?", atMs: Date.now() });
    return new Response("ok");
  });
  return {
    requests,
    url: (path: string) => `http://127.0.0.1:${server.addr.port}${path}`,
    /** When `path` was requested from `region`, in order. */
    times(path: string, region: string): number[] {
      return requests.filter((r) => r.path === path && r.region === region).map((r) => r.atMs);
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** The results on the topic: who checked which site, when. */
async function followResults(env: Record<string, string>) {
  const seen: { siteId: string; region: string; checker: string; atMs: number }[] = [];
  const settings = readSettings(env);
  const consumer = await startConsumer({
    kafka: createKafka(settings.kafka, SILENT),
    topic: settings.kafka.topic,
    groupId: `${settings.kafka.groupId}-results`,
    log: SILENT,
    lingerMs: 100,
    handle: (batch) => {
      for (const message of batch.messages) {
        const result = JSON.parse(new TextDecoder().decode(message.value!));
        seen.push({ ...result, atMs: Date.parse(result.checkedAt) });
      }
      return Promise.resolve();
    },
  });
  return {
    seen,
    /** Per site, the checkers of `region` that checked it from `fromMs` on. */
    checkersFrom(region: string, fromMs: number): Map<string, Set<string>> {
      const bySite = new Map<string, Set<string>>();
      for (const r of seen) {
        if (r.region !== region || r.atMs < fromMs) continue;
        bySite.set(r.siteId, (bySite.get(r.siteId) ?? new Set()).add(r.checker));
      }
      return bySite;
    },
    [Symbol.asyncDispose]: () => consumer.stop(),
  };
}

function sitesFile(url: (path: string) => string, ids: readonly string[], paths = new Map()) {
  const lines = ids.map((id) => `  - id: ${id}\n    url: ${url(paths.get(id) ?? `/s/${id}`)}`);
  return `defaults:\n  interval: ${INTERVAL_MS / 1000}s\n  timeout: 2s\nsites:\n${
    lines.join("\n")
  }\n`;
}

/** The partitions a checker's last "sites assigned" log line names. */
function assignedPartitions(checker: MonitorProcess): number | undefined {
  const lines = checker.log().split("\n").filter((line) => line.includes('"sites assigned"'));
  const last = lines.at(-1);
  if (last === undefined) return undefined;
  const { partitions } = JSON.parse(last) as { partitions: string };
  return partitions === "" ? 0 : partitions.split(",").length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Gaps between consecutive times. */
function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((time, i) => time - times[i]!);
}

Deno.test({
  name:
    "checkers of two regions share 300 sites through Kafka: each checked once per interval per region, taken over when one dies or joins, edits reach them",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using target = startRecorder();
    const env = testEnv({ LOG_LEVEL: "info", LOG_FORMAT: "json" });
    const ids = Array.from({ length: SITES }, (_, i) => `site-${i}`);
    const dir = await Deno.makeTempDir();
    const file = `${dir}/sites.yaml`;
    await Deno.writeTextFile(file, sitesFile(target.url, ids));
    const applied = monitor(["sites", "apply", file], env);
    assert.equal(await applied.code, 0, applied.err());

    const checkers: MonitorProcess[] = [];
    const start = (region: string) => {
      const checker = spawnMonitor(["produce", "--region", region], env);
      checkers.push(checker);
      return checker;
    };
    try {
      const [a1, a2, a3] = [start("a"), start("a"), start("a")];
      const b1 = start("b");
      // 12 partitions: four for each checker of a, all twelve for b.
      await waitFor("the sites shared out", () => {
        const counts = [a1, a2, a3, b1].map(assignedPartitions);
        return counts.join() === "4,4,4,12" || undefined;
      }, 60_000);
      // (The checkers have created the results topic; the reader starts at its beginning.)
      await using results = await followResults(env);

      // Steady: sites moved while the group formed have had their first check by now.
      const steadyFromMs = Date.now() + INTERVAL_MS + SLACK_MS;
      await sleep(steadyFromMs - Date.now() + 2 * INTERVAL_MS);
      const steadyToMs = Date.now();
      for (const region of ["a", "b"]) {
        for (const id of ids) {
          const times = target.times(`/s/${id}`, region).filter((t) =>
            t >= steadyFromMs && t < steadyToMs
          );
          assert.ok(
            times.length >= 2,
            `${id} from ${region}: ${times.length} checks in 2 intervals`,
          );
          for (const gap of gaps(times)) {
            assert.ok(
              Math.abs(gap - INTERVAL_MS) < 1_500,
              `${id} from ${region}: a gap of ${gap} ms`,
            );
          }
        }
        const checkers = results.checkersFrom(region, steadyFromMs);
        assert.equal(checkers.size, SITES, `sites with results from ${region}`);
        for (const [site, by] of checkers) {
          assert.equal(by.size, 1, `${site} from ${region}: checked by ${[...by].join(", ")}`);
        }
      }

      // One checker of a dies: its sites are checked again within a session timeout and an
      // interval, by the others; each is checked twice in a short while at most once.
      const killedAtMs = Date.now();
      await a1.stop("SIGKILL");
      await sleep(SESSION_MS + INTERVAL_MS + SLACK_MS + INTERVAL_MS);
      assertTakenOver(target, ids, killedAtMs, SESSION_MS + INTERVAL_MS + SLACK_MS);
      await sleep(2_000); // the results of the last checks on their way to the reader
      const survivors = results.checkersFrom("a", killedAtMs + SESSION_MS + INTERVAL_MS + SLACK_MS);
      assert.equal(survivors.size, SITES);
      for (const [site, by] of survivors) assert.equal(by.size, 1, `${site}: ${[...by]}`);

      // A fourth checker joins (the second of a now alive): it takes sites over the same way.
      const joinedAtMs = Date.now();
      const a4 = start("a");
      await waitFor("the fourth checker assigned", () => {
        const counts = [a2, a3, a4].map(assignedPartitions);
        return counts.join() === "4,4,4" || undefined;
      }, 60_000);
      await sleep(INTERVAL_MS + SLACK_MS + INTERVAL_MS);
      assertTakenOver(target, ids, joinedAtMs, SESSION_MS + INTERVAL_MS + SLACK_MS);
      const windowEndMs = Date.now();
      await sleep(2_000); // the results of the last checks on their way to the reader
      const after = results.checkersFrom("a", windowEndMs - INTERVAL_MS);
      const before = new Set(results.seen.filter((r) => r.atMs < joinedAtMs).map((r) => r.checker));
      const byA4 = [...after.values()].filter((by) => [...by].some((c) => !before.has(c)));
      assert.ok(byA4.length > 0, "the fourth checker checks sites");
      assert.equal(after.size, SITES);
      for (const [site, by] of after) assert.equal(by.size, 1, `${site}: ${[...by]}`);

      // An edited file: one site added, one URL changed, one site removed.
      const edited = [...ids.filter((id) => id !== "site-2"), "site-new"];
      await Deno.writeTextFile(
        file,
        sitesFile(target.url, edited, new Map([["site-1", "/s/site-1/v2"]])),
      );
      const reapplied = monitor(["sites", "apply", file], env);
      assert.equal(await reapplied.code, 0, reapplied.err());
      const appliedAtMs = Date.now();
      await sleep(INTERVAL_MS + SLACK_MS);
      const settledMs = appliedAtMs + SLACK_MS;
      for (const region of ["a", "b"]) {
        assert.ok(target.times("/s/site-new", region).length > 0, `site-new from ${region}`);
        assert.ok(target.times("/s/site-1/v2", region).length > 0, `site-1's new URL, ${region}`);
        const old = target.times("/s/site-1", region).filter((t) => t > settledMs);
        assert.deepEqual(old, [], `site-1's old URL from ${region} after the edit`);
        const removed = target.times("/s/site-2", region).filter((t) => t > settledMs);
        assert.deepEqual(removed, [], `site-2 from ${region} after its removal`);
      }
    } finally {
      for (const checker of checkers) await checker.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * Every site of region a was checked within `withinMs` of `eventMs`, and in the rebalance that
 * followed no site was checked twice in a short while more than once.
 */
function assertTakenOver(
  target: ReturnType<typeof startRecorder>,
  ids: readonly string[],
  eventMs: number,
  withinMs: number,
): void {
  for (const id of ids) {
    const times = target.times(`/s/${id}`, "a").filter((t) => t >= eventMs - INTERVAL_MS);
    const first = times.find((t) => t >= eventMs);
    assert.ok(first !== undefined && first - eventMs <= withinMs, `${id}: next check ${first}`);
    const twice = gaps(times).filter((gap) => gap < INTERVAL_MS - 1_000);
    assert.ok(twice.length <= 1, `${id}: checked twice in a short while ${twice.length} times`);
  }
}
