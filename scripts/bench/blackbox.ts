/**
 * The other side of `checks.ts`: a local CA, the loopback target over HTTP and HTTPS, and
 * Debian's blackbox_exporter driven by wrk. Every function takes the benchmark's temporary
 * directory, where certificates, the exporter's configuration and wrk's script go.
 *
 * @module
 */

/** The commands this needs, and where Debian has them. */
export const COMMANDS = ["prometheus-blackbox-exporter", "wrk", "openssl"] as const;
export const APT_HINT = "apt-get install -y prometheus-blackbox-exporter wrk openssl";

/** The outcome of one timed run. */
export interface Run {
  readonly perSecond: number;
  readonly failed: number;
  readonly firstFailure: string | null;
}

/** Runs a command to completion; its standard output, or an error with its standard error. */
async function run(command: string, args: string[], options: Deno.CommandOptions = {}) {
  const output = await new Deno.Command(command, { ...options, args, stdout: "piped" }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`"${command} ${args.join(" ")}" failed: ${decoder.decode(output.stderr)}`);
  }
  return decoder.decode(output.stdout);
}

/**
 * Lists the commands in {@link COMMANDS} that are not on PATH.
 *
 * @returns Their names.
 */
export function missingCommands(): string[] {
  const dirs = (Deno.env.get("PATH") ?? "").split(":");
  return COMMANDS.filter((name) =>
    !dirs.some((dir) => {
      try {
        return Deno.statSync(`${dir}/${name}`).isFile;
      } catch {
        return false;
      }
    })
  );
}

/**
 * Makes a CA (`ca.pem`) and an RSA 2048 certificate for 127.0.0.1 signed by it (`server.pem`,
 * `server.key`) in `dir`.
 *
 * @param dir The benchmark's temporary directory.
 */
export async function makeCertificates(dir: string): Promise<void> {
  const openssl = (args: string) => run("openssl", args.split(" "), { cwd: dir, stderr: "piped" });
  await openssl(
    "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2" +
      " -subj /CN=bench-ca -addext basicConstraints=critical,CA:TRUE" +
      " -addext keyUsage=critical,keyCertSign,cRLSign",
  ); // deno-fmt-ignore
  await openssl("req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1");
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1\n" +
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
      "extendedKeyUsage=serverAuth\n",
  ); // deno-fmt-ignore
  await openssl("x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2" +
    " -extfile server.ext -out server.pem"); // deno-fmt-ignore
}

/**
 * Starts `target.ts` with no delay, over HTTP and over HTTPS with `dir`'s certificate.
 *
 * @param dir The benchmark's temporary directory, with the certificates made.
 * @returns The process and its two base URLs.
 */
export async function startTarget(dir: string) {
  const script = new URL("target.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", script],
    env: { DELAY_MS: "0", TLS_CERT_FILE: `${dir}/server.pem`, TLS_KEY_FILE: `${dir}/server.key` },
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (text.split("\n").length < 3) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`The target stopped before printing its two ports: "${text}"`);
    text += value;
  }
  await reader.cancel();
  const [httpPort, httpsPort] = text.split("\n");
  const urls = { http: `http://127.0.0.1:${httpPort}/`, https: `https://127.0.0.1:${httpsPort}/` };
  return { child, urls };
}

/**
 * Starts blackbox_exporter on a free loopback port with one module, `http_pattern`: a fresh
 * connection per probe (its default), the body matched against `pattern`, `dir`'s CA trusted.
 *
 * @param dir The benchmark's temporary directory, with the certificates made.
 * @param pattern The regular expression the body must match.
 * @returns The process, and a function that gives the probe URL for a target.
 */
export async function startBlackbox(dir: string, pattern: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `127.0.0.1:${listener.addr.port}`;
  listener.close();
  const http = {
    fail_if_body_not_matches_regexp: [pattern],
    tls_config: { ca_file: `${dir}/ca.pem` },
  };
  const modules = { http_pattern: { prober: "http", timeout: "10s", http } };
  // JSON is YAML.
  await Deno.writeTextFile(`${dir}/blackbox.yml`, JSON.stringify({ modules }));
  await Deno.writeTextFile(`${dir}/count.lua`, WRK_SCRIPT);
  const child = new Deno.Command("prometheus-blackbox-exporter", {
    args: [`--config.file=${dir}/blackbox.yml`, `--web.listen-address=${address}`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (const deadline = Date.now() + 10_000;;) {
    const up = await fetch(`http://${address}/-/healthy`).then((r) => r.text(), () => null);
    if (up !== null) break;
    if (Date.now() > deadline) throw new Error(`blackbox_exporter did not start on "${address}"`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const probeUrl = (target: string) =>
    `http://${address}/probe?module=http_pattern&target=${encodeURIComponent(target)}`;
  return { child, probeUrl };
}

/**
 * Probes once by hand, with the exporter's debug log: a benchmark of failing probes would
 * measure nothing.
 *
 * @param probeUrl From {@link startBlackbox}.
 * @returns The HTTP version the probe used (Go speaks HTTP/2 over TLS when the server offers it).
 * @throws {Error} With the exporter's log, when the probe failed.
 */
export async function probeOnce(probeUrl: string): Promise<string> {
  const text = await (await fetch(`${probeUrl}&debug=true`)).text();
  if (!/^probe_success 1$/m.test(text)) {
    throw new Error(`blackbox_exporter's probe "${probeUrl}" failed:\n${text}`);
  }
  return /^probe_http_version (\S+)$/m.exec(text)?.[1] ?? "unknown";
}

// wrk sees only the exporter's status, 200 whatever the probe found: count what the body says.
const WRK_SCRIPT = `ok, failed = 0, 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  if status == 200 and string.find(body, "\\nprobe_success 1\\n", 1, true) then ok = ok + 1
  else failed = failed + 1 end
end
function done()
  local sum = 0
  for _, t in ipairs(threads) do sum = sum + t:get("failed") end
  io.write("probes failed: " .. sum .. "\\n")
end
`;

/**
 * Drives the exporter with `wrk -t2` for `seconds` with `concurrency` connections.
 *
 * @returns Requests (probes) a second, as wrk reports them, and how many probes failed.
 */
export async function runWrk(
  dir: string,
  probeUrl: string,
  options: { seconds: number; concurrency: number; signal: AbortSignal },
): Promise<Run> {
  const args = ["-t2", `-c${options.concurrency}`, `-d${options.seconds}s`, "--timeout", "10s"];
  const out = await run("wrk", [...args, "-s", `${dir}/count.lua`, probeUrl], {
    signal: options.signal,
    stderr: "piped",
  });
  const perSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const failed = Number(/probes failed: (\d+)/.exec(out)?.[1]);
  if (Number.isNaN(perSecond) || Number.isNaN(failed)) {
    throw new Error(`Cannot read wrk's output:\n${out}`);
  }
  return { perSecond, failed, firstFailure: /Socket errors:.*|Non-2xx.*/.exec(out)?.[0] ?? null };
}
