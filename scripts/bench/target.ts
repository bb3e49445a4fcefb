/**
 * A loopback HTTP server for benchmarks, run in its own process so it does not share the event
 * loop with what is measured. Prints its port, then answers every request with a 1 KiB page after
 * `DELAY_MS` (default 20) milliseconds.
 *
 * @module
 */
const delayMs = Number(Deno.env.get("DELAY_MS") ?? 20);
const page = `<html><body>${"x".repeat(1000)} status: ok</body></html>`;
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  return new Response(page);
});
console.log(server.addr.port);
