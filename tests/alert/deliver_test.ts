import assert from "node:assert/strict";
import type { Channel } from "../../src/alert/channels/channel.ts";
import { type Outbox, type OutboxEntry, startDelivery } from "../../src/alert/deliver.ts";
import { type Notification, notificationOf } from "../../src/alert/notification.ts";
import { SILENT } from "../../src/log.ts";
import { waitFor } from "../_helpers/services.ts";
import { run, series } from "./_checks.ts";

const SITE = { name: "Web shop", url: "https://shop.example.com/health" };

/** The opening and the resolution of one down incident. */
const [OPENED, RESOLVED] = run(series("c", ["fail", "fail", "fail", "ok", "ok"]))
  .transitions.map((t) => notificationOf(t, SITE)) as [Notification, Notification];

/** A row of the outbox kept in memory, as the `notifications` table keeps it. */
interface Row extends OutboxEntry {
  attempts: number;
  nextAttemptAt: number;
  sentAt?: number;
  lastError?: string;
}

/** The outbox in memory, with a clock the test moves; every row belongs to one channel. */
function memoryOutbox(bodies: readonly unknown[]) {
  const clock = { ms: Date.parse("2026-11-25T11:00:00.000Z") };
  const rows: Row[] = bodies.map((body, i) => ({
    id: String(i + 1),
    key: (body as Notification).idempotencyKey,
    body,
    attempts: 0,
    nextAttemptAt: clock.ms,
  }));
  const outbox: Outbox = {
    next: (_channel, now) =>
      Promise.resolve(
        rows.find((r) => r.sentAt === undefined && r.nextAttemptAt <= now.getTime()),
      ),
    sent(id, at) {
      rows.find((r) => r.id === id)!.sentAt = at.getTime();
      return Promise.resolve();
    },
    failed(id, failure) {
      const row = rows.find((r) => r.id === id)!;
      row.attempts++;
      row.lastError = failure.error;
      row.nextAttemptAt = failure.nextAttemptAt.getTime();
      return Promise.resolve();
    },
  };
  return { rows, outbox, clock, now: () => new Date(clock.ms) };
}

/** A channel that takes a notification when `accept` says so, and keeps what it took. */
function memoryChannel(accept: (n: Notification) => boolean) {
  const received: string[] = [];
  const channel: Channel = {
    name: "hook",
    send(notification) {
      if (!accept(notification)) {
        return Promise.reject(new Error('Channel "hook" (webhook) answered HTTP 503'));
      }
      received.push(notification.idempotencyKey);
      return Promise.resolve();
    },
  };
  return { channel, received };
}

Deno.test("startDelivery() tries a failed notification again after its backoff, until the channel takes it", async () => {
  const { rows, outbox, clock, now } = memoryOutbox([OPENED]);
  let up = false;
  const { channel, received } = memoryChannel(() => up);
  const delivery = startDelivery([channel], outbox, { log: SILENT, now });
  try {
    await waitFor("the first attempt", () => rows[0]!.attempts === 1 || undefined);
    assert.equal(rows[0]!.lastError, 'Channel "hook" (webhook) answered HTTP 503');
    assert.equal(rows[0]!.nextAttemptAt, clock.ms + 1_000, "the first backoff");
    up = true;
    clock.ms += 1_000;
    delivery.wake();
    await waitFor("the delivery", () => rows[0]!.sentAt ?? undefined);
    assert.deepEqual(received, [OPENED.idempotencyKey]);
    assert.equal(rows[0]!.attempts, 1);
  } finally {
    await delivery.stop();
  }
});

Deno.test("startDelivery() keeps a notification it cannot read as a failed attempt, saying why, and sends the next", async () => {
  const unreadable = { ...OPENED, version: 2 };
  const { rows, outbox, clock, now } = memoryOutbox([unreadable, RESOLVED]);
  const { channel, received } = memoryChannel(() => true);
  const delivery = startDelivery([channel], outbox, { log: SILENT, now });
  try {
    await waitFor("the next notification", () => rows[1]!.sentAt ?? undefined);
    assert.deepEqual(received, [RESOLVED.idempotencyKey]);
    assert.equal(rows[0]!.sentAt, undefined);
    assert.equal(rows[0]!.attempts, 1);
    assert.equal(rows[0]!.nextAttemptAt, clock.ms + 1_000);
    assert.match(
      rows[0]!.lastError ?? "",
      /^Cannot read notification 1 of the outbox: version: Invalid input: expected 1$/,
    );
  } finally {
    await delivery.stop();
  }
});
