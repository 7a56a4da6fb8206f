import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { progress, type ResultRow, repeat, summarize } from "../measure.ts";
import { runChild } from "./child-process.ts";

const kafka = () =>
  new Kafka({
    clientId: "bench",
    brokers: readStackEndpoints().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });

/** Fills a fresh 6-partition topic with `count` seed-like readings; returns its name. */
const prefill = async (count: number): Promise<string> => {
  const topic = `bench-raw-${Date.now().toString(36)}`;
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 6 },
      { topic: `${topic}-out`, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  const producer = kafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = Date.now() - count * 100;
  for (let i = 0; i < count; i += 10_000) {
    const n = Math.min(10_000, count - i);
    await producer.send({
      topic,
      acks: 1,
      messages: Array.from({ length: n }, (_, j) => {
        const k = i + j;
        const ts = t0 + k * 100;
        return {
          key: `Sensor${(k % 5) + 1}`,
          value: `{"ts":${ts},"value":${k % 101}}`,
          timestamp: String(ts),
        };
      }),
    });
    if (i % 200_000 === 0)
      progress(`prefilled ${i.toLocaleString("en-US")}/${count.toLocaleString("en-US")}`);
  }
  await producer.disconnect();
  return topic;
};

/** A bare kafkajs consumer reading the whole topic: the floor the harness is compared with. */
const bareConsumer = async (topic: string, total: number): Promise<number> => {
  const consumer = kafka().consumer({
    groupId: `bench-bare-${randomUUID()}`,
    maxBytesPerPartition: 6 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  // From run() to the last record, group join included, as for the harness.
  const t0 = performance.now();
  let last = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: 6,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        last = performance.now();
        if (seen >= total) resolve();
      },
    });
  });
  await consumer.disconnect();
  return (total / (last - t0)) * 1000;
};

/**
 * Scenarios 3 and 4 (harness part): records/s from a pre-filled 6-partition topic through the
 * harness and aggregate-temperatures into an output topic, next to a bare kafkajs consumer reading
 * the same topic in the same run; and the harness process's peak RSS.
 */
export const harnessScenario = async (options: { quick: boolean }): Promise<ResultRow[]> => {
  const total = options.quick ? 50_000 : 1_000_000;
  const runs = options.quick ? 1 : 3;
  progress(`harness end to end: prefilling ${total.toLocaleString("en-US")} readings`);
  const topic = await prefill(total);
  const rows: ResultRow[] = [];
  for (const batchSize of [100, 10_000]) {
    progress(`harness end to end, batch ${batchSize}`);
    const bare = summarize(await repeat(0, runs, () => bareConsumer(topic, total)));
    let peak = 0;
    const harness = summarize(
      await repeat(0, runs, async () => {
        const r = await runChild<{ records: number; ms: number; peakRssMb: number }>(
          "harness-child.ts",
          [
            topic,
            `bench-harness-${randomUUID()}`,
            String(batchSize),
            String(total),
            `${topic}-out`,
          ],
        );
        peak = Math.max(peak, r.peakRssMb);
        return (r.records / r.ms) * 1000;
      }),
    );
    rows.push({
      scenario: "3 harness end to end",
      case: `batch ${batchSize.toLocaleString("en-US")}, ${total.toLocaleString("en-US")} readings, 6 partitions`,
      metric: "records/s",
      value: harness,
      baseline: { name: "bare kafkajs consumer", value: bare },
      ratio: harness.median / bare.median,
      ...(batchSize === 10_000
        ? { target: ">= 80% of bare consumer", met: harness.median / bare.median >= 0.8 }
        : {}),
    });
    rows.push({
      scenario: "4 memory",
      case: `harness process, batch ${batchSize.toLocaleString("en-US")}`,
      metric: "peak RSS MB",
      value: summarize([peak]),
      target: "< 256 MB",
      met: peak < 256,
    });
  }
  return rows;
};
