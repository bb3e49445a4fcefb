import assert from "node:assert/strict";
import { type ConsumedMessage, setAsideOutsideRetention } from "../../src/db/results.ts";
import { asMessages, makeResult } from "../_helpers/results.ts";

const NOW = new Date("2026-11-25T12:00:00Z");
const RETENTION = { checksDays: 30, rollupsDays: 400 };

Deno.test("setAsideOutsideRetention() keeps what the rollups keep and sets aside the rest with the reason", () => {
  const unreadable: ConsumedMessage = {
    topic: "t",
    partition: 0,
    offset: "9",
    key: null,
    value: new Uint8Array([0xff]),
    reason: "Message is not UTF-8 text",
  };
  const messages = [
    ...asMessages([
      makeResult({ checkedAt: "2026-11-25T11:59:00Z" }),
      // Older than the raw checks are kept, not than the rollups: still counted in its rollups.
      makeResult({ checkedAt: "2026-09-01T00:00:00Z" }),
      makeResult({ checkedAt: "2019-06-30T12:00:00Z" }),
      makeResult({ checkedAt: "2026-11-26T11:59:00Z" }),
      makeResult({ checkedAt: "2026-11-26T12:00:01Z" }),
    ]),
    unreadable,
  ];
  const [recent, old, expired, tomorrow, ahead, kept] = setAsideOutsideRetention(messages, {
    now: NOW,
    retention: RETENTION,
  });
  assert.equal(recent, messages[0]);
  assert.equal(old, messages[1]);
  assert.equal(tomorrow, messages[3]);
  assert.equal(kept, unreadable);
  // Set aside: the message's place and bytes, with the reason instead of its result.
  const asideAt = (index: number, reason: string) => {
    const { topic, partition, offset, key, value } = messages[index]!;
    return { topic, partition, offset, key, value, reason };
  };
  assert.deepEqual(
    expired,
    asideAt(
      2,
      "checkedAt 2019-06-30T12:00:00Z is older than rollups are kept (RETAIN_ROLLUPS_DAYS=400)",
    ),
  );
  assert.deepEqual(
    ahead,
    asideAt(
      4,
      "checkedAt 2026-11-26T12:00:01Z is more than a day after this consumer's clock (2026-11-25T12:00:00.000Z)",
    ),
  );
});
