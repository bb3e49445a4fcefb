/**
 * A real HTTP receiver on a random loopback port for the channels' tests, keeping every request it
 * gets. Routes, after the checker's test target:
 *
 * - `/code/:n`: status n, body `code n`
 * - `/sleep/:ms`: 200 after ms milliseconds
 * - `/redirect`: 302 to `/code/200`
 * - anything else: what `answer` returns (default `200 ok`)
 *
 * @module
 */
import type { Notification } from "../../src/alert/notification.ts";

/** One request as received: the body as the exact text sent. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: Headers;
  readonly body: string;
}

/** A running receiver; use with `await using`. */
export interface Receiver extends AsyncDisposable {
  url(path: string): string;
  readonly received: readonly Received[];
}

/** Starts a receiver; `answer` answers the paths that are not routes. */
export function startReceiver(
  answer: (received: Received) => Response | Promise<Response> = () => new Response("ok"),
): Receiver {
  const received: Received[] = [];
  const controller = new AbortController();
  const sleepers = new Map<ReturnType<typeof setTimeout>, () => void>();
  /** Waits `ms`, or until the receiver closes. */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        sleepers.delete(timer);
        resolve();
      }, ms);
      sleepers.set(timer, resolve);
    });
  }
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      const entry = {
        method: request.method,
        path,
        headers: request.headers,
        body: await request.text(),
      };
      received.push(entry);
      const [, route = "", arg = ""] = path.split("/");
      switch (route) {
        case "code":
          return new Response(`code ${arg}`, { status: Number(arg) });
        case "sleep":
          await sleep(Number(arg));
          return new Response("ok");
        case "redirect":
          return new Response(null, { status: 302, headers: { location: "/code/200" } });
        default:
          return answer(entry);
      }
    },
  );
  const { port } = server.addr;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    async [Symbol.asyncDispose]() {
      for (const [timer, resolve] of sleepers) {
        clearTimeout(timer);
        resolve();
      }
      controller.abort();
      await server.finished;
    },
  };
}

/** The webhook verifier of docs/alerts.md, exactly as receivers copy it. */
const docsVerifier = await (async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/alerts.md", import.meta.url));
  const after = doc.slice(doc.indexOf("Verify `X-Monitor-Signature"));
  const code = /```ts\n([\s\S]*?)```/.exec(after)?.[1];
  if (code === undefined) {
    throw new Error("docs/alerts.md has no webhook verifier after its heading");
  }
  const module = `${code}\nexport { verified };`;
  return (await import(`data:application/typescript,${encodeURIComponent(module)}`)).verified as (
    rawBody: string,
    headers: Headers,
    secret: string,
    nowMs?: number,
  ) => boolean;
})();

/**
 * Verifies a webhook delivery with the verifier of docs/alerts.md: signature over timestamp and
 * body, in constant time, and a timestamp at most 5 minutes from `nowMs`.
 */
export function verifySignature(secret: string, received: Received, nowMs?: number): boolean {
  return docsVerifier(received.body, received.headers, secret, nowMs);
}

/**
 * The pieces of the secrets that `text` contains: every run of 8 characters (a shorter part whole)
 * of each secret, its URL-encoded form and each of its path segments. An error message about a
 * channel must contain none.
 */
export function secretPieces(text: string, secrets: readonly string[]): string[] {
  const forms = secrets.flatMap((secret) => [
    secret,
    encodeURIComponent(secret),
    ...secret.split("/"),
  ]);
  const pieces = new Set<string>();
  for (const form of forms) {
    const size = Math.min(8, form.length);
    if (size < 4) continue; // "", "T" or "v2" say nothing
    for (let i = 0; i + size <= form.length; i++) {
      const piece = form.slice(i, i + size);
      if (text.includes(piece)) pieces.add(piece);
    }
  }
  return [...pieces];
}

/** A notification of an opened down incident of site `shop`. */
export const OPENED: Notification = {
  version: 1,
  idempotencyKey: "shop/down/0190d6a8-7b5c-7def-8abc-0123456789ab/opened",
  transition: "opened",
  incidentId: "shop/down/0190d6a8-7b5c-7def-8abc-0123456789ab",
  siteId: "shop",
  siteName: "Web shop <prod>",
  url: "https://shop.example.com/health",
  kind: "down",
  severity: "critical",
  summary: "Web shop <prod> is down: timeout: No response headers within 10s",
  cause: {
    errorKind: "timeout",
    statusCode: null,
    responseTimeMs: null,
    message: "No response headers within 10s",
  },
  regions: ["eu-west", "us-east"],
  openedAt: "2026-11-25T10:03:00.000Z",
  openedByCheckId: "0190d6a8-7b5c-7def-8abc-0123456789ab",
  resolvedAt: null,
  resolvedByCheckId: null,
};

/** The same incident, resolved. */
export const RESOLVED: Notification = {
  ...OPENED,
  idempotencyKey: "shop/down/0190d6a8-7b5c-7def-8abc-0123456789ab/resolved",
  transition: "resolved",
  summary: "Web shop <prod> is up again, after 5m down",
  resolvedAt: "2026-11-25T10:08:00.000Z",
  resolvedByCheckId: "0190d6ad-0000-7def-8abc-0123456789ab",
};
