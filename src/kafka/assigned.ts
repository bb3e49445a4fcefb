/**
 * A compacted topic shared out by a consumer group (how the checkers share the sites): each member
 * holds the rows of the partitions assigned to it. Nothing is committed: each partition assigned is
 * read from its beginning, and a revoked one forgotten, so a partition that comes back is read
 * whole again (a tombstone compacted away meanwhile cannot leave a removed site behind). A member
 * cut off from the brokers keeps what it holds until the group tells it otherwise: in a Kafka
 * outage the checkers go on checking, at the price of a site checked twice for a while.
 *
 * @module
 */
import { type RawMessage, textKeyOf } from "./batch.ts";
import { type GroupMember, leaveGroup, memberOptions, openConsumer } from "./consumer.ts";
import { kafkaFailure } from "./errors.ts";

/** Options of {@link followAssignedRows}. */
export interface AssignedRowsOptions extends GroupMember {
  /**
   * Told the rows of the partitions assigned now, each time they change (changes that arrive
   * together are told once). Keys that are not UTF-8 are left out.
   */
  readonly onChange: (rows: ReadonlyMap<string, Uint8Array>) => void;
}

/** A member following its partitions. */
export interface AssignedRows {
  /** Rejects if the member failed for good (an error the library does not retry). */
  readonly crashed: Promise<never>;
  /** Leaves the group, so that the others take its partitions over at once. */
  stop(): Promise<void>;
}

/** Changes within this time are told together: a fetch's messages, a rebalance's steps. */
const SETTLE_MS = 50;

/** Joins the group and follows its partitions' rows; resolves once it asked to join. */
export async function followAssignedRows(options: AssignedRowsOptions): Promise<AssignedRows> {
  const { topic, log } = options;
  const { consumer, crashed, fail } = openConsumer(options.kafka, {
    ...memberOptions(options),
    maxWaitTime: 500,
  });

  /** Every partition's rows read so far, assigned now or before. */
  const partitions = new Map<number, Map<string, Uint8Array>>();
  let told: string | undefined;
  let pending: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const assignedNow = () =>
    (consumer.assignments ?? []).filter((a) => a.topic === topic).flatMap((a) => a.partitions);

  function changed(): void {
    if (stopped) return;
    clearTimeout(pending);
    pending = setTimeout(tell, SETTLE_MS);
  }

  function tell(): void {
    const assigned = assignedNow().toSorted((a, b) => a - b);
    for (const partition of partitions.keys()) {
      if (assigned.includes(partition)) continue;
      partitions.delete(partition);
      // Without a next offset, the library starts the partition again at its beginning.
      stream.offsetsToFetch.delete(`${topic}:${partition}`);
    }
    const rows = new Map<string, Uint8Array>();
    for (const partition of assigned) {
      for (const [key, value] of partitions.get(partition) ?? []) rows.set(key, value);
    }
    const now = assigned.join(",");
    if (now !== told) {
      log.info("sites assigned", { groupId: options.groupId, partitions: now, sites: rows.size });
      told = now;
    }
    options.onChange(rows);
  }

  function receive(message: RawMessage): void {
    const key = textKeyOf(message);
    // (A fetch answered after its partition was revoked: read again when it comes back.)
    if (key === undefined || !assignedNow().includes(message.partition)) return;
    let rows = partitions.get(message.partition);
    if (rows === undefined) partitions.set(message.partition, rows = new Map());
    if (message.value === undefined) rows.delete(key);
    else rows.set(key, message.value);
    changed();
  }

  // The assignment changes in steps (revoked, then joined again): each one is told.
  for (const event of ["consumer:group:join", "consumer:group:rebalance", "consumer:group:leave"]) {
    consumer.on(event, changed);
  }
  const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false })
    .catch(async (error) => {
      await consumer.close(true).catch(() => {});
      throw kafkaFailure(error);
    });
  stream.on("data", receive);
  stream.on("error", fail);

  return {
    crashed,
    stop() {
      stopped = true;
      clearTimeout(pending);
      return leaveGroup(consumer, stream, log);
    },
  };
}
