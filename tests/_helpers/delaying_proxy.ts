/**
 * A TCP proxy on loopback that holds each connection for a known time before passing anything on:
 * the client's connection is open, yet the server's first byte (a TLS server's handshake, an HTTP
 * server's answer) comes that much later. An independent observer for the checker's phase times.
 *
 * @module
 */

/** A running proxy; `close()` stops it and its connections. */
export interface DelayingProxy extends AsyncDisposable {
  /** `url` with its port changed to the proxy's. */
  readonly via: (url: string) => string;
  close(): Promise<void>;
}

/**
 * Starts a proxy to `port` on 127.0.0.1 that waits `delayMs` after accepting a connection before
 * it connects onwards and relays both ways.
 */
export function startDelayingProxy(port: number, delayMs: number): DelayingProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const relays = new Set<Promise<unknown>>();
  const served = (async () => {
    for await (const client of listener) {
      conns.add(client);
      // No Nagle: a relay that held back small writes would add delays of its own.
      client.setNoDelay(true);
      const relay = (async () => {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        const server = await Deno.connect({ hostname: "127.0.0.1", port });
        server.setNoDelay(true);
        conns.add(server);
        await Promise.allSettled([
          client.readable.pipeTo(server.writable),
          server.readable.pipeTo(client.writable),
        ]);
      })().catch(() => {/* either side went away */});
      relays.add(relay);
    }
  })();
  async function close() {
    listener.close();
    await served.catch(() => {});
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await Promise.allSettled(relays);
  }
  return {
    via(url) {
      const proxied = new URL(url);
      proxied.port = String(listener.addr.port);
      return proxied.href;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
