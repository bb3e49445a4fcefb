/**
 * The check ids seen lately, so that the line output prints once a check the topic holds twice
 * (Kafka is at least once); a copy follows its original closely on the same partition, so the
 * latest ids are enough.
 *
 * @module
 */

/** A few MiB, and minutes of results of 10 000 sites in 3 regions. */
const REMEMBERED = 100_000;

/** @returns A function telling whether an id was among the latest `capacity`, remembering it. */
export function recentCheckIds(capacity = REMEMBERED): (checkId: string) => boolean {
  const seen = new Set<string>();
  const ring: (string | undefined)[] = [];
  let next = 0;
  return (checkId) => {
    if (seen.has(checkId)) return true;
    const forgotten = ring[next];
    if (forgotten !== undefined) seen.delete(forgotten);
    ring[next] = checkId;
    next = (next + 1) % capacity;
    seen.add(checkId);
    return false;
  };
}
