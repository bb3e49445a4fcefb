/**
 * A loopback HTTP(S) server for benchmarks, run in its own process so it does not share the event
 * loop with what is measured. Answers every request with a 1 KiB page containing `status: ok`
 * after `DELAY_MS` (default 20) milliseconds.
 *
 * Prints the HTTP port on its first line. With `TLS_CERT_FILE` and `TLS_KEY_FILE` (PEM; needs
 * `--allow-read`) it also serves HTTPS with that certificate and prints that port on a second line.
 *
 * @module
 */
const delayMs = Number(Deno.env.get("DELAY_MS") ?? 20);
const page = `<html><body>${"x".repeat(1000)} status: ok</body></html>`;

async function handle(): Promise<Response> {
  // A timer of 0 ms still yields to the event loop: skip it when no delay is asked for.
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  return new Response(page);
}

const listen = { hostname: "127.0.0.1", port: 0, onListen: () => {} };
console.log(Deno.serve(listen, handle).addr.port);
const certFile = Deno.env.get("TLS_CERT_FILE");
const keyFile = Deno.env.get("TLS_KEY_FILE");
if (certFile !== undefined && keyFile !== undefined) {
  const tls = { cert: Deno.readTextFileSync(certFile), key: Deno.readTextFileSync(keyFile) };
  console.log(Deno.serve({ ...listen, ...tls }, handle).addr.port);
}
