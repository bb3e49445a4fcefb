/**
 * Benchmark: what the Kafka layer itself costs, whichever client library `src/kafka/` uses.
 *
 *   deno task bench:kafka [--messages 200000] [--sites 1000] [--repeat 3]
 *
 * Publishes `--messages` check results through `openPublisher` (the program's producer:
 * idempotent, acks from all in-sync replicas, gzip, batches of 500) to a fresh six-partition
 * topic and times it until the last is acknowledged; then reads them back through
 * `startConsumer` (a consumer group, per-partition batches, offsets committed after each) with a
 * handler that does nothing, and with one that decodes and validates each batch as `monitor
 * consume` does before writing. Prints messages per second and this process's CPU time per
 * message (user + system) of each, for each of `--repeat` runs and their median. The results
 * compress so well that the consumer takes the whole topic in one or two fetches: its figure is the
 * group join, the fetch and the library's decoding, with the commit after the last message handled.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { readSettings } from "../../src/config/settings.ts";
import { ensureTopic } from "../../src/kafka/admin.ts";
import { createKafka, type KafkaClient } from "../../src/kafka/client.ts";
import { decodeBatch } from "../../src/kafka/codec.ts";
import { type KafkaBatch, startConsumer } from "../../src/kafka/consumer.ts";
import { openPublisher } from "../../src/kafka/producer.ts";
import { deleteTopic } from "../../tests/_helpers/kafka.ts";
import { SILENT } from "../../src/log.ts";
import { makeResult } from "../../tests/_helpers/results.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    messages: { type: "string", default: "200000" },
    sites: { type: "string", default: "1000" },
    repeat: { type: "string", default: "3" },
  },
});
const count = Number(values.messages);
const siteCount = Number(values.sites);
const repeatCount = Number(values.repeat);

/** Throughput and CPU of one phase. */
interface Figures {
  readonly perSecond: number;
  readonly cpuMicrosPerMessage: number;
}

/** Times `work` (wall clock and this process's CPU) over `count` messages. */
async function measure(work: () => Promise<void>): Promise<Figures> {
  const cpu = process.cpuUsage();
  const startedMs = performance.now();
  await work();
  const seconds = (performance.now() - startedMs) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    perSecond: count / seconds,
    cpuMicrosPerMessage: (used.user + used.system) / count,
  };
}

async function produce(kafka: KafkaClient, topic: string): Promise<Figures> {
  const results = Array.from(
    { length: count },
    (_, i) => makeResult({ siteId: `site-${i % siteCount}` }),
  );
  const publisher = await openPublisher(kafka, {
    topic,
    log: SILENT,
    maxBufferedMessages: count,
  });
  try {
    return await measure(async () => {
      for (const result of results) publisher.publish(result);
      await publisher.flush();
    });
  } finally {
    await publisher.close(5_000);
  }
}

async function consume(
  kafka: KafkaClient,
  topic: string,
  groupId: string,
  handle: (batch: KafkaBatch) => void,
): Promise<Figures> {
  let handled = 0;
  let running: Awaited<ReturnType<typeof startConsumer>> | undefined;
  try {
    return await measure(async () => {
      running = await startConsumer({
        kafka,
        topic,
        groupId,
        log: SILENT,
        handle: (batch) => {
          handle(batch);
          handled += batch.messages.length;
          return Promise.resolve();
        },
      });
      while (handled < count) await new Promise((resolve) => setTimeout(resolve, 5));
    });
  } finally {
    await running?.stop();
  }
}

function median(numbers: number[]): number {
  const sorted = numbers.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function show(name: string, figures: Figures): string {
  return `${name} ${Math.round(figures.perSecond)}/s ${
    figures.cpuMicrosPerMessage.toFixed(1)
  } µs CPU/message`;
}

const runs: Record<"produce" | "consume" | "decode", Figures[]> = {
  produce: [],
  consume: [],
  decode: [],
};
for (let run = 1; run <= repeatCount; run++) {
  const id = crypto.randomUUID().slice(0, 8);
  const settings = readSettings({
    KAFKA_BROKERS: Deno.env.get("KAFKA_BROKERS") ?? "",
    KAFKA_TOPIC: `bench-kafka-${id}`,
  });
  const kafka = createKafka(settings.kafka, SILENT);
  const topic = settings.kafka.topic;
  await ensureTopic(kafka, { topic, partitions: 6, replicationFactor: -1 }, SILENT);
  try {
    runs.produce.push(await produce(kafka, topic));
    runs.consume.push(await consume(kafka, topic, `bench-kafka-${id}-a`, () => {}));
    runs.decode.push(await consume(kafka, topic, `bench-kafka-${id}-b`, decodeBatch));
    console.log(
      `run ${run}: ${show("produce", runs.produce.at(-1)!)}; ${
        show("consume", runs.consume.at(-1)!)
      }; ${show("consume+decode", runs.decode.at(-1)!)}`,
    );
  } finally {
    await deleteTopic(kafka, topic);
  }
}
const medians = (figures: Figures[]): Figures => ({
  perSecond: median(figures.map((f) => f.perSecond)),
  cpuMicrosPerMessage: median(figures.map((f) => f.cpuMicrosPerMessage)),
});
console.log(
  `median of ${repeatCount}, ${count} messages: ${show("produce", medians(runs.produce))}; ${
    show("consume", medians(runs.consume))
  }; ${show("consume+decode", medians(runs.decode))}`,
);
