/**
 * No site can crash a checker through its body (issue 22 §3): many sites whose bodies are big and
 * slow, all at once, against one `monitor produce` process with the heap `deno task produce` gives
 * it. Before bodies had a budget, twelve such sites ended it with "Fatal JavaScript out of memory".
 *
 * @module
 */
import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check/result.ts";
import { messagesOnTopic, testEnv } from "../_helpers/services.ts";

/** Sites with a pattern, whose 17 MiB bodies would have to be kept. */
const KEPT = 40;
/** Sites without one, whose bodies are only counted. */
const COUNTED = 4;
/** Sites with small bodies, with and without a pattern. */
const GOOD = 4;
const MIB = 2 ** 20;
const BODY_CHUNKS = 17;
const CHUNK_EVERY_MS = 100;
/** The heap of `deno task produce`; CHECK_BODY_MEMORY_BYTES is unset, so bodies get 64 MiB. */
const HEAP_MB = 256;
/**
 * Resident memory allowed. The process with one site takes ~120 MiB; the chunks it reads, kept or
 * not, take up to ~300 MiB more until the collector frees them (seen: 380–470 MiB in all); the
 * kept bodies 64 MiB at most. Keeping every body would add 40 × 16 MiB (seen: 720–830 MiB).
 */
const MAX_RSS_MIB = 560;

const MOD = new URL("../../mod.ts", import.meta.url).pathname;

/** A target with `/huge` (17 MiB, a MiB every 100 ms) and `/good` (a few bytes). */
function startTarget() {
  const controller = new AbortController();
  const chunk = new Uint8Array(MIB).fill(0x61);
  const timers = new Set<ReturnType<typeof setInterval>>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    (request) => {
      if (new URL(request.url).pathname === "/good") return new Response("all good");
      let sent = 0;
      let timer: ReturnType<typeof setInterval> | undefined;
      const stop = () => {
        clearInterval(timer);
        if (timer !== undefined) timers.delete(timer);
      };
      return new Response(
        new ReadableStream({
          start(stream) {
            timer = setInterval(() => {
              try {
                stream.enqueue(chunk);
                if (++sent === BODY_CHUNKS) {
                  stop();
                  stream.close();
                }
              } catch {
                stop(); // the checker went away
              }
            }, CHUNK_EVERY_MS);
            timers.add(timer);
          },
          cancel: stop,
        }),
      );
    },
  );
  return {
    url: (path: string) => `http://127.0.0.1:${server.addr.port}${path}`,
    [Symbol.asyncDispose]: async () => {
      for (const timer of timers) clearInterval(timer);
      controller.abort();
      await server.finished;
    },
  };
}

function sitesFile(url: (path: string) => string): string {
  const site = (id: string, path: string, extra = "") =>
    `  - id: ${id}\n    url: ${url(path)}\n    timeout: 30s\n${extra}`;
  const huge = "    max_body_bytes: 16777216\n";
  return [
    "sites:",
    ...Array.from({ length: KEPT }, (_, i) => site(`kept-${i}`, "/huge", `${huge}    pattern: b`)),
    ...Array.from({ length: COUNTED }, (_, i) => site(`counted-${i}`, "/huge", huge)),
    ...Array.from(
      { length: GOOD },
      (_, i) => site(`good-${i}`, "/good", i % 2 === 0 ? "    pattern: ^all good$" : ""),
    ),
  ].join("\n");
}

/** The highest resident memory of process `pid` so far, in MiB; 0 once it has gone. */
function peakRssMib(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

Deno.test({
  name:
    "monitor produce checks every site once, good ones up, with bounded memory, when many sites send huge slow bodies at once",
  ignore: Deno.build.os !== "linux", // (resident memory is read from /proc)
  async fn() {
    await using target = startTarget();
    const env = testEnv();
    const file = await Deno.makeTempFile({ suffix: ".yaml" });
    try {
      await Deno.writeTextFile(file, sitesFile(target.url));
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          `--v8-flags=--max-heap-size=${HEAP_MB}`,
          MOD,
          "produce",
          "--once",
          "--config",
          file,
        ],
        env,
        stdout: "null",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).spawn();
      const log = new Response(child.stderr).text();
      let peakMib = 0;
      let running = true;
      const status = child.status.finally(() => running = false);
      while (running) {
        peakMib = Math.max(peakMib, peakRssMib(child.pid));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const { code, signal } = await status;
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, await log);

      const total = KEPT + COUNTED + GOOD;
      const messages = await messagesOnTopic(env, total);
      const results = messages.map((message) => {
        assert.ok(
          message.value!.byteLength < 2048,
          `a result of ${message.value!.byteLength} bytes`,
        );
        return JSON.parse(new TextDecoder().decode(message.value!)) as CheckResult;
      });
      assert.equal(new Set(results.map((r) => r.siteId)).size, total, "each site checked once");
      for (const result of results) {
        if (result.siteId.startsWith("good-")) {
          assert.equal(result.up, true, `${result.siteId}: ${result.error?.message}`);
        } else {
          assert.equal(
            result.error?.kind,
            "body_too_large",
            `${result.siteId}: ${result.error?.message}`,
          );
        }
      }
      // Most kept bodies were given up for the budget's sake, before their own limit.
      const givenUp = results.filter((r) => /CHECK_BODY_MEMORY_BYTES/.test(r.error?.message ?? ""));
      assert.ok(givenUp.length >= KEPT / 2, `${givenUp.length} bodies given up for the budget`);
      assert.ok(givenUp.every((r) => r.siteId.startsWith("kept-")), "only kept bodies count");
      assert.ok(peakMib < MAX_RSS_MIB, `resident memory reached ${Math.round(peakMib)} MiB`);
    } finally {
      await Deno.remove(file);
    }
  },
});
