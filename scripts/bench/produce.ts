/**
 * Benchmark: `monitor produce` with 10 000 HTTPS sites in a process of its own — resident memory
 * over time and how late checks start, against the same process with one site as the baseline.
 *
 *   deno task bench:produce [--sites 10000] [--minutes 10] [--interval 60s] [--baseline-minutes 1]
 *     [--v8-flags FLAGS]   (passed to the producer, e.g. --v8-flags=--max-semi-space-size=2)
 *
 * Needs Kafka (`KAFKA_BROKERS`; the task starts the local services when unset). Serves the sites
 * from a loopback HTTPS target (a local CA made with `openssl`, 20 ms per answer) in a process of
 * its own. Prints resident memory every 30 s, then: memory at the end relative to the one-site
 * baseline, the share of checks started within 100 ms of their plan (from the producer's own
 * `monitor_check_start_lag_seconds`), checks done relative to checks due, and the heap the sites
 * themselves take (parsed in this process).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseSites } from "../../src/sites/file.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sites: { type: "string", default: "10000" },
    minutes: { type: "string", default: "10" },
    interval: { type: "string", default: "60s" },
    "baseline-minutes": { type: "string", default: "1" },
    "v8-flags": { type: "string" },
  },
});
const MOD = new URL("../../mod.ts", import.meta.url).pathname;
const MIB = 2 ** 20;

async function run(command: string, args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(command, { args, cwd, stderr: "piped" }).output();
  if (code !== 0) throw new Error(`${command} failed: ${new TextDecoder().decode(stderr)}`);
}

/** A CA and a certificate for localhost signed by it, in `dir`. */
async function makeCertificates(dir: string): Promise<void> {
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=bench CA",
  ], dir);
  await run("openssl", [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ], dir);
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=DNS:localhost\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  ], dir);
}

function sitesYaml(count: number, port: number): string {
  const lines = ["defaults:", `  interval: ${values.interval}`, "  ca_file: ca.pem", "sites:"];
  for (let i = 0; i < count; i++) {
    lines.push(`  - id: site-${i}`, `    url: https://localhost:${port}/?site=${i}`);
    lines.push(`    pattern: "status: ok"`);
  }
  return lines.join("\n");
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return listener.addr.port;
}

function residentMib(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Sums of a Prometheus histogram's buckets and of a counter, from the text format. */
function scrape(text: string) {
  const buckets = new Map<string, number>();
  let checks = 0;
  for (const line of text.split("\n")) {
    const bucket = /^monitor_check_start_lag_seconds_bucket\{le="([^"]+)"\} (\d+)/.exec(line);
    if (bucket) buckets.set(bucket[1]!, Number(bucket[2]));
    const counted = /^monitor_checks_total\{[^}]*\} (\d+)/.exec(line);
    if (counted) checks += Number(counted[1]);
  }
  return { buckets, checks };
}

/** Runs `monitor produce` on `count` sites for `minutes`, printing memory as it goes. */
async function produce(dir: string, count: number, port: number, minutes: number) {
  await Deno.writeTextFile(`${dir}/sites.yaml`, sitesYaml(count, port));
  const metricsPort = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      ...(values["v8-flags"] ? [`--v8-flags=${values["v8-flags"]}`] : []),
      MOD,
      "produce",
      "--config",
      `${dir}/sites.yaml`,
    ],
    env: {
      KAFKA_TOPIC: `bench-produce-${crypto.randomUUID()}`,
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: "warn",
    },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const samples: number[] = [];
  try {
    const endAt = Date.now() + minutes * 60_000;
    while (Date.now() < endAt) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, endAt - Date.now())));
      samples.push(residentMib(child.pid));
      console.log(
        `  ${count} sites, ${(samples.length * 0.5).toFixed(1)} min: ${
          samples.at(-1)!.toFixed(0)
        } MiB resident`,
      );
    }
    const metrics = scrape(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    return { rssMib: samples.at(-1)!, maxRssMib: Math.max(...samples), ...metrics };
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

const dir = await Deno.makeTempDir({ prefix: "bench-produce-" });
await makeCertificates(dir);
const target = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    new URL("target.ts", import.meta.url).pathname,
  ],
  env: { TLS_CERT_FILE: `${dir}/server.pem`, TLS_KEY_FILE: `${dir}/server.key` },
  stdout: "piped",
}).spawn();
try {
  const lines = target.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (text.split("\n").length < 3) text += (await lines.read()).value ?? "";
  const httpsPort = Number(text.split("\n")[1]);
  const count = Number(values.sites);
  const minutes = Number(values.minutes);

  console.log(`baseline: one site for ${values["baseline-minutes"]} min`);
  const baseline = await produce(dir, 1, httpsPort, Number(values["baseline-minutes"]));
  console.log(`${count} sites every ${values.interval} for ${minutes} min`);
  const many = await produce(dir, count, httpsPort, minutes);

  const total = [...many.buckets.values()].at(-1) ?? 0;
  const within100 = many.buckets.get("0.1") ?? 0;
  const intervalMs = parseSites(sitesYaml(1, httpsPort), `${dir}/x.yaml`)[0]!.intervalMs;
  const due = Math.floor((minutes * 60_000) / intervalMs) * count;

  // The sites alone, in this process: heap after collecting garbage, before and after parsing.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = Deno.memoryUsage().heapUsed;
  const sites = parseSites(sitesYaml(count, httpsPort), `${dir}/sites.yaml`);
  gc?.();
  const sitesHeapMib = (Deno.memoryUsage().heapUsed - heapBefore) / MIB;

  console.log("\nresults");
  console.log(
    `  resident after ${minutes} min: ${many.rssMib.toFixed(0)} MiB (max ${
      many.maxRssMib.toFixed(0)
    }), one site: ${baseline.rssMib.toFixed(0)} MiB — ${
      (many.rssMib / baseline.rssMib).toFixed(2)
    }× the baseline; target ≤ 300 MB: ${many.rssMib * MIB <= 300e6 ? "met" : "NOT met"}`,
  );
  console.log(
    `  checks started within 100 ms of their plan: ${within100} of ${total} (${
      ((within100 / total) * 100).toFixed(2)
    } %); p99 < 100 ms: ${within100 >= 0.99 * total ? "met" : "NOT met"}`,
  );
  console.log(
    `  checks done: ${many.checks} of ~${due} due (${((many.checks / due) * 100).toFixed(1)} %)`,
  );
  console.log(
    `  the ${sites.length} parsed sites take ${
      gc ? `${sitesHeapMib.toFixed(1)} MiB of heap` : "(run with --v8-flags=--expose-gc to measure)"
    }`,
  );
} finally {
  target.kill();
  await target.status;
  await Deno.remove(dir, { recursive: true });
}
