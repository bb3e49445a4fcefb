/**
 * A TCP proxy on loopback that a test can cut and restore, to play a network failure between the
 * monitor and a real service.
 *
 * @module
 */

/** A running proxy. */
export interface TcpProxy extends AsyncDisposable {
  /** The port to connect to instead of the service's. */
  readonly port: number;
  /** Drops every open connection and refuses new ones until {@link TcpProxy.restore}. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
}

/**
 * Starts a proxy to `127.0.0.1:targetPort`.
 *
 * @param targetPort The real service's port.
 */
export function startTcpProxy(targetPort: number): TcpProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let broken = false;

  async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    try {
      await from.readable.pipeTo(to.writable);
    } catch { /* either side went away */ }
  }

  async function serve(client: Deno.Conn): Promise<void> {
    if (broken) return client.close();
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    } catch {
      return client.close();
    }
    open.add(client).add(upstream);
    await Promise.all([pipe(client, upstream), pipe(upstream, client)]);
    for (const conn of [client, upstream]) {
      open.delete(conn);
      try {
        conn.close();
      } catch { /* already closed by pipeTo */ }
    }
  }

  const serving = (async () => {
    const connections: Promise<void>[] = [];
    for await (const client of listener) connections.push(serve(client));
    await Promise.all(connections);
  })();

  function dropAll(): void {
    for (const conn of open) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    open.clear();
  }

  return {
    port: listener.addr.port,
    cut() {
      broken = true;
      dropAll();
    },
    restore() {
      broken = false;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      dropAll();
      await serving.catch(() => {});
    },
  };
}
