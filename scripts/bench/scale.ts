/**
 * Benchmark (#14): 1, 2 and 3 checker processes (`monitor produce` without `--config`, one
 * region) sharing 10 000 sites through the sites topic. For each count it prints checks done
 * relative to checks due over a window, how evenly the sites spread over the checkers, and, with
 * two or more, the time from killing one (SIGKILL) until every one of its sites was checked again,
 * against the bound the README gives (session timeout plus one interval).
 *
 *   deno task bench:scale [--sites 10000] [--interval 30s] [--window 60s] [--session 10s]
 *
 * Needs Kafka (`KAFKA_BROKERS`; the task starts the local services when unset). The sites are
 * served by a loopback target in this process that notes when each site was requested; the
 * results topic says which checker checked which site.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseDurationMs } from "../../src/config/duration.ts";
import { readSettings } from "../../src/config/settings.ts";
import { createKafka } from "../../src/kafka/client.ts";
import { startConsumer } from "../../src/kafka/consumer.ts";
import { SILENT } from "../../src/log.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sites: { type: "string", default: "10000" },
    interval: { type: "string", default: "30s" },
    window: { type: "string", default: "60s" },
    session: { type: "string", default: "10s" },
  },
});
const SITES = Number(values.sites);
const INTERVAL_MS = parseDurationMs(values.interval)!;
const WINDOW_MS = parseDurationMs(values.window)!;
const SESSION_MS = parseDurationMs(values.session)!;
const MOD = new URL("../../mod.ts", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When each site was requested. */
const requested = new Map<string, number[]>();
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
  const id = new URL(request.url).pathname.slice(1);
  const times = requested.get(id);
  if (times === undefined) requested.set(id, [Date.now()]);
  else times.push(Date.now());
  return new Response("ok");
});

function sitesFile(): string {
  const lines = [`defaults:\n  interval: ${values.interval}\n  timeout: 5s\nsites:`];
  for (let i = 0; i < SITES; i++) {
    lines.push(`  - id: s${i}\n    url: http://127.0.0.1:${server.addr.port}/s${i}`);
  }
  return `${lines.join("\n")}\n`;
}

async function monitor(args: string[], env: Record<string, string>): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MOD, ...args],
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`monitor ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

/** Per checker, the sites it checked from `fromMs` on (from the results topic). */
async function followCheckers(env: Record<string, string>) {
  const seen: { siteId: string; checker: string; atMs: number }[] = [];
  const settings = readSettings(env);
  const consumer = await startConsumer({
    kafka: createKafka(settings.kafka, SILENT),
    topic: settings.kafka.topic,
    groupId: `${settings.kafka.topic}-bench`,
    log: SILENT,
    handle: (batch) => {
      for (const message of batch.messages) {
        const { siteId, checker, checkedAt } = JSON.parse(new TextDecoder().decode(message.value!));
        seen.push({ siteId, checker, atMs: Date.parse(checkedAt) });
      }
      return Promise.resolve();
    },
  });
  return {
    sitesBy(fromMs: number, toMs: number): Map<string, Set<string>> {
      const by = new Map<string, Set<string>>();
      for (const r of seen) {
        if (r.atMs < fromMs || r.atMs >= toMs) continue;
        by.set(r.checker, (by.get(r.checker) ?? new Set()).add(r.siteId));
      }
      return by;
    },
    stop: () => consumer.stop(),
  };
}

function checksBetween(fromMs: number, toMs: number): number {
  let count = 0;
  for (const times of requested.values()) {
    for (const t of times) if (t >= fromMs && t < toMs) count++;
  }
  return count;
}

async function measure(checkers: number): Promise<void> {
  requested.clear();
  const id = crypto.randomUUID().slice(0, 8);
  const env = {
    ...Deno.env.toObject(),
    KAFKA_TOPIC: `bench-scale-${id}`,
    KAFKA_SITES_TOPIC: `bench-scale-sites-${id}`,
    KAFKA_SESSION_TIMEOUT_MS: String(SESSION_MS),
    MONITOR_REGION: "bench",
    LOG_LEVEL: "warn",
  };
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(file, sitesFile());
  await monitor(["sites", "apply", file], env);
  await Deno.remove(file);
  const processes = Array.from({ length: checkers }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--v8-flags=--max-heap-size=256", MOD, "produce"],
      env,
      stdout: "null",
      stderr: "null",
    }).spawn());
  try {
    const startMs = Date.now();
    while (requested.size < SITES) await sleep(200);
    const coveredMs = Date.now() - startMs;
    // Sites moved while the group formed have had their first check after one more interval.
    await sleep(INTERVAL_MS);
    const results = await followCheckers(env);
    const fromMs = Date.now();
    await sleep(WINDOW_MS);
    const toMs = Date.now();
    const done = checksBetween(fromMs, toMs);
    const due = SITES * WINDOW_MS / INTERVAL_MS;
    const shares = [...results.sitesBy(fromMs, toMs).values()].map((s) => s.size)
      .toSorted((a, b) => a - b);
    console.log(
      `${checkers} checker(s): every site checked ${
        (coveredMs / 1000).toFixed(1)
      } s after start; ` +
        `checks done/due ${done}/${Math.round(due)} = ${(done / due).toFixed(3)}; ` +
        `sites per checker ${shares.join(", ")} (largest/even share ${
          (shares.at(-1)! / (SITES / checkers)).toFixed(2)
        })`,
    );
    if (checkers > 1) {
      const victim = [...results.sitesBy(toMs - INTERVAL_MS, toMs)].toSorted()[0]!;
      const [checker, sites] = victim;
      const pid = Number(checker.split(":").at(-1));
      const process = processes.find((p) => p.pid === pid)!;
      const killedMs = Date.now();
      process.kill("SIGKILL");
      await process.status;
      const deadline = killedMs + 3 * (SESSION_MS + INTERVAL_MS);
      let coverMs: number | undefined;
      while (coverMs === undefined && Date.now() < deadline) {
        await sleep(200);
        const checkedAgain = [...sites].filter((site) =>
          (requested.get(site) ?? []).some((t) => t > killedMs)
        );
        if (checkedAgain.length === sites.size) coverMs = Date.now() - killedMs;
      }
      const bound = SESSION_MS + INTERVAL_MS;
      console.log(
        `  killed ${checker} (${sites.size} sites): all checked again after ${
          coverMs === undefined ? "never (gave up)" : `${(coverMs / 1000).toFixed(1)} s`
        }; bound session + interval = ${bound / 1000} s` +
          (coverMs === undefined ? "" : ` (ratio ${(coverMs / bound).toFixed(2)})`),
      );
    }
    await results.stop();
  } finally {
    for (const process of processes) {
      try {
        process.kill("SIGTERM");
      } catch {
        // already ended
      }
      await process.status;
    }
  }
}

console.log(
  `${SITES} sites every ${values.interval}, window ${values.window}, session timeout ${values.session}`,
);
for (const checkers of [1, 2, 3]) await measure(checkers);
await server.shutdown();
