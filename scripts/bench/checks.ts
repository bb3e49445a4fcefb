/**
 * Benchmark (#16): how many checks a second does our checker do against blackbox_exporter, on the
 * same loopback target, fresh connection per check, body matched against a pattern?
 *
 *   deno task bench:checks [--seconds 10] [--concurrency 64]
 *
 * Needs `prometheus-blackbox-exporter`, `wrk` and `openssl` on PATH (Debian:
 * `apt-get install -y prometheus-blackbox-exporter wrk openssl`).
 *
 * Starts `target.ts` (no delay, a 1 KiB page containing `status: ok`) over HTTP and over HTTPS with
 * a certificate signed by a CA made with openssl in a temporary directory. For each scheme it then
 * runs, for `--seconds` each with `--concurrency` in flight: blackbox_exporter driven by wrk,
 * `checkSite()` (the site trusts the CA with `ca_file`), a bare `node:http(s)` request loop
 * (`agent: false`: the ceiling of a fresh connection per request in Deno), `checkSite()` again and
 * blackbox_exporter again. The palindromic order makes a noisy neighbour on the shared machine
 * visible as two unequal runs of the same thing. Prints every run, then per scheme the means,
 * ours / blackbox against the ≥ 1.5× target, and ours / bare loop.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import { parseArgs } from "node:util";
import { checkSite } from "../../src/check/check_site.ts";
import { parseSites } from "../../src/sites/file.ts";
import {
  APT_HINT,
  makeCertificates,
  missingCommands,
  probeOnce,
  type Run,
  runWrk,
  startBlackbox,
  startTarget,
} from "./blackbox.ts";

const PATTERN = "status: ok";
const TARGET_RATIO = 1.5;

interface Options {
  readonly seconds: number;
  readonly concurrency: number;
  readonly signal: AbortSignal;
}

/** Calls `once` with `concurrency` calls in flight for `seconds`; `once` says why it failed. */
async function loop(options: Options, once: () => Promise<string | null>): Promise<Run> {
  let done = 0;
  let failed = 0;
  let firstFailure: string | null = null;
  const startedMs = performance.now();
  const endMs = startedMs + options.seconds * 1000;
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (performance.now() < endMs && !options.signal.aborted) {
      const failure = await once();
      done++;
      if (failure !== null) failed++, firstFailure ??= failure;
    }
  }));
  return { perSecond: done / ((performance.now() - startedMs) / 1000), failed, firstFailure };
}

/** One GET over a connection of its own, body read: what went wrong, or null. */
function bareRequest(url: URL, ca: string): Promise<string | null> {
  return new Promise((resolve) => {
    const onResponse = (response: http.IncomingMessage) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => body += chunk);
      response.on("error", (error) => resolve(error.message));
      response.on("end", () => {
        const ok = response.statusCode === 200 && body.includes(PATTERN);
        resolve(ok ? null : `status ${response.statusCode}, ${body.length} characters`);
      });
    };
    const request = url.protocol === "https:"
      ? https.get(url, { agent: false, ca }, onResponse)
      : http.get(url, { agent: false }, onResponse);
    request.on("error", (error) => resolve(error.message));
  });
}

function print(name: string, result: Run): Run {
  const failure = result.firstFailure === null ? "" : ` (first: ${result.firstFailure})`;
  const rate = result.perSecond.toFixed(0).padStart(6);
  console.log(`  ${name.padEnd(18)} ${rate}/s   failed ${result.failed}${failure}`);
  return result;
}

function mean(runs: readonly Run[]): number {
  return runs.reduce((sum, run) => sum + run.perSecond, 0) / runs.length;
}

/** The five runs for one URL, printed as they end, and their summary. */
async function compare(
  url: string,
  dir: string,
  probeUrl: (target: string) => string,
  options: Options,
): Promise<void> {
  const scheme = new URL(url).protocol.slice(0, -1);
  const caFile = `${dir}/ca.pem`;
  const ca = await Deno.readTextFile(caFile);
  const trust = scheme === "https" ? `\n    ca_file: ${JSON.stringify(caFile)}` : "";
  const yaml = `sites:\n  - id: bench\n    url: ${url}\n    pattern: "${PATTERN}"${trust}`;
  const site = parseSites(yaml, `${dir}/sites.yaml`)[0]!;
  const ours = () =>
    checkSite(site).then((r) => r.up ? null : `${r.error.kind}: ${r.error.message}`);
  const bare = () => bareRequest(new URL(url), ca);
  const probeHttpVersion = await probeOnce(probeUrl(url));
  const wrk = () => runWrk(dir, probeUrl(url), options);

  console.log(
    `${url}: ${options.seconds} s each, ${options.concurrency} at a time` +
      ` (blackbox_exporter's probes use HTTP/${probeHttpVersion}, ours HTTP/1.1)`,
  );
  const blackbox = [print("blackbox_exporter", await wrk())];
  const checks = [print("checkSite()", await loop(options, ours))];
  const ceiling = print(`bare node:${scheme}`, await loop(options, bare));
  checks.push(print("checkSite()", await loop(options, ours)));
  blackbox.push(print("blackbox_exporter", await wrk()));
  options.signal.throwIfAborted();

  const ratio = mean(checks) / mean(blackbox);
  const verdict = ratio >= TARGET_RATIO ? "meets" : "MISSES";
  const [oursRate, theirs] = [mean(checks).toFixed(0), mean(blackbox).toFixed(0)];
  console.log(
    `  ${scheme.toUpperCase()}: ours ${oursRate}/s = ${ratio.toFixed(2)}x blackbox ${theirs}/s,` +
      ` ${verdict} the >= ${TARGET_RATIO}x target;` +
      ` ${(mean(checks) / ceiling.perSecond).toFixed(2)}x the bare node:${scheme} loop\n`,
  );
}

/**
 * Runs the benchmark.
 *
 * @param args Command-line arguments.
 * @returns The exit code: 0; 2 when a flag is wrong or a tool is missing; 130 when interrupted.
 */
export async function main(args: string[]): Promise<number> {
  const options = {
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "64" },
  } as const;
  let values;
  try {
    ({ values } = parseArgs({ args, options }));
  } catch (error) {
    console.error(`${(error as Error).message}: the flags are --seconds and --concurrency`);
    return 2;
  }
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  if (!(seconds >= 1) || !Number.isInteger(concurrency) || concurrency < 2) {
    console.error(
      `--seconds must be at least 1 and --concurrency a whole number of at least 2: current` +
        ` values are "${values.seconds}" and "${values.concurrency}"`,
    );
    return 2;
  }
  const missing = missingCommands();
  if (missing.length > 0) {
    console.error(`Cannot find ${missing.join(", ")} on PATH: install with \`${APT_HINT}\``);
    return 2;
  }
  const dir = await Deno.makeTempDir({ prefix: "bench-checks-" });
  const children: Deno.ChildProcess[] = [];
  const stop = new AbortController();
  const interrupt = () => stop.abort(new Error("Interrupted"));
  Deno.addSignalListener("SIGINT", interrupt);
  try {
    await makeCertificates(dir);
    const target = await startTarget(dir);
    children.push(target.child);
    const blackbox = await startBlackbox(dir, PATTERN);
    children.push(blackbox.child);
    const runs = { seconds, concurrency, signal: stop.signal };
    await compare(target.urls.http, dir, blackbox.probeUrl, runs);
    await compare(target.urls.https, dir, blackbox.probeUrl, runs);
    return 0;
  } catch (error) {
    // A wrk killed by the interrupt fails too: that is not news.
    if (!stop.signal.aborted) throw error;
    console.error("Interrupted");
    return 130;
  } finally {
    Deno.removeSignalListener("SIGINT", interrupt);
    for (const child of children) {
      child.kill("SIGTERM");
      await child.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
