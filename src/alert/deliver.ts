/**
 * Delivering the outbox, as docs/alerts.md tells: one loop per channel sends its oldest due
 * notification and marks it sent, or failed with its next attempt, holding up only itself.
 *
 * @module
 */
import { backoffMs, sleep } from "../backoff.ts";
import type { Logger } from "../log.ts";
import { issueLine } from "../text.ts";
import type { Channel } from "./channels/channel.ts";
import { notificationSchema } from "./notification.ts";

/** A notification in the outbox, as it was written. */
export interface OutboxEntry {
  readonly id: string;
  /** Its idempotency key, readable even when its body is not. */
  readonly key: string;
  /** The notification's JSON as it was written: this version may not read it. */
  readonly body: unknown;
  /** Failed attempts so far. */
  readonly attempts: number;
}

/** Where the notifications wait (the `notifications` table). */
export interface Outbox {
  /** The channel's oldest notification due by `now`, unless an earlier one of its incident waits. */
  next(channel: string, now: Date): Promise<OutboxEntry | undefined>;
  sent(id: string, at: Date): Promise<void>;
  failed(id: string, failure: { error: string; nextAttemptAt: Date }): Promise<void>;
}

/** Delivery running. */
export interface Delivery {
  /** Looks for due notifications now rather than at the next poll. */
  wake(): void;
  /** Stops: sends in flight are called off, not marked sent (the next alerter sends them). */
  stop(): Promise<void>;
}

const POLL_MS = 1_000;

/** Starts one delivery loop per channel; `onOutcome` is told of each attempt (for metrics). */
export function startDelivery(
  channels: readonly Channel[],
  outbox: Outbox,
  options: {
    readonly log: Logger;
    readonly now?: () => Date;
    readonly onOutcome?: (channel: string, outcome: "sent" | "failed", latencyMs: number) => void;
  },
): Delivery {
  const { log } = options;
  const now = options.now ?? (() => new Date());
  const stopping = new AbortController();
  let waking = new AbortController();

  async function deliverTo(channel: Channel): Promise<void> {
    while (!stopping.signal.aborted) {
      let due: OutboxEntry | undefined;
      try {
        due = await outbox.next(channel.name, now());
      } catch (error) {
        log.warn("alert outbox cannot be read, trying again", {
          channel: channel.name,
          error: (error as Error).message,
        });
      }
      if (due === undefined) await sleep(POLL_MS, waking.signal);
      else await attempt(channel, due);
    }
  }

  async function attempt(channel: Channel, entry: OutboxEntry): Promise<void> {
    const started = now();
    // A body this version cannot read is kept and retried like a failed delivery, holding up only
    // its own incident.
    const read = notificationSchema.safeParse(entry.body);
    try {
      if (!read.success) {
        const problem = issueLine(read.error.issues[0]!);
        throw new Error(`Cannot read notification ${entry.id} of the outbox: ${problem}`);
      }
      await channel.send(read.data, { signal: stopping.signal });
    } catch (error) {
      if (stopping.signal.aborted) return;
      const failures = entry.attempts + 1;
      const delayMs = backoffMs(failures, { firstMs: 1_000, maxMs: 300_000 });
      const nextAttemptAt = new Date(now().getTime() + delayMs);
      // Channel errors never carry a URL's token or a password (see channels/channel.ts).
      const message = (error as Error).message;
      log.warn("notification not delivered, will try again", {
        channel: channel.name,
        key: entry.key,
        attempts: failures,
        retryAt: nextAttemptAt.toISOString(),
        error: message,
      });
      options.onOutcome?.(channel.name, "failed", now().getTime() - started.getTime());
      await outbox.failed(entry.id, { error: message, nextAttemptAt }).catch(() => {});
      return;
    }
    const { resolvedAt, openedAt } = read.data;
    options.onOutcome?.(channel.name, "sent", now().getTime() - Date.parse(resolvedAt ?? openedAt));
    log.info("notification delivered", { channel: channel.name, key: entry.key });
    // Unmarked (the database is away), it is sent again later, with the same key.
    await outbox.sent(entry.id, now()).catch((error) => {
      log.warn("notification delivered but not marked so", { error: (error as Error).message });
    });
  }

  const loops = channels.map((channel) => deliverTo(channel));
  return {
    wake() {
      waking.abort();
      waking = new AbortController();
    },
    async stop() {
      stopping.abort();
      // Left aborted: a loop about to pause finds no pause, and sees it is stopping.
      waking.abort();
      await Promise.allSettled(loops);
    },
  };
}
