import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import {
  type TemperatureState,
  temperatureAggregation,
} from "../../core/temperature-aggregation.ts";
import { createAggregateHandler } from "../../functions/aggregate-temperatures/aggregate-handler.ts";
import { kafkaRecordSink } from "../../functions/record-sink.ts";
import { resolveTrigger } from "../../functions/trigger-declaration.ts";
import { startHarness } from "../../harness/harness.ts";
import { silentLogger } from "../../lib/logger.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import { progress, type ResultRow, summarize } from "../measure.ts";

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/**
 * Scenario 5: from producing the reading that closes a window to that window arriving on the
 * output topic, at a steady 10,000 readings/s of live event time, through the harness with the
 * default 0.5 s batching window (in-memory store).
 */
export const latencyScenario = async (options: { quick: boolean }): Promise<ResultRow[]> => {
  const seconds = options.quick ? 8 : 30;
  const rate = 10_000;
  const brokers = readStackEndpoints().kafkaBrokers;
  const kafka = new Kafka({ clientId: "bench-latency", brokers, logLevel: logLevel.NOTHING });
  const run = Date.now().toString(36);
  const raw = `bench-latency-raw-${run}`;
  const out = `bench-latency-out-${run}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: raw, numPartitions: 3 },
      { topic: out, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const aggregate = createAggregateHandler({
    rules: {
      spec: { sizeMs: 10_000, graceMs: 1_000 },
      closing: "key",
      aggregation: temperatureAggregation,
    },
    decode: { timestampSource: "payload", maxEventTimeSkewMs: 86_400_000 },
    topics: { windows: out, late: out, deadLetters: out },
    store: new MemoryWindowStateStore<TemperatureState>(),
    sink: kafkaRecordSink(producer),
    logger: silentLogger,
    now: Date.now,
  });
  const batchingWindowSeconds = 0.5;
  const harness = await startHarness({
    functions: [
      {
        name: "aggregate-temperatures",
        trigger: resolveTrigger("aggregate-temperatures", {
          topic: raw,
          consumerGroupId: `bench-latency-${randomUUID()}`,
          batchSize: 10_000,
          maximumBatchingWindowInSeconds: batchingWindowSeconds,
          startingPosition: "LATEST",
        }),
        handler: async (event) => void (await aggregate(event)),
      },
    ],
    kafka,
    bootstrapServers: brokers,
    logger: silentLogger,
  });
  // Per sensor: when the first reading at or past each window's close was produced.
  const closersProducedAt = new Map<string, number>();
  const latencies: number[] = [];
  const consumer = kafka.consumer({ groupId: `bench-latency-reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: out, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const w = JSON.parse(message.value?.toString() ?? "{}");
      if (w.start === undefined) return;
      const producedAt = closersProducedAt.get(`${w.sensor}|${w.end + 1_000}`);
      if (producedAt !== undefined) latencies.push(Date.now() - producedAt);
    },
  });
  await new Promise((r) => setTimeout(r, 2_000)); // groups joined
  progress(`latency: ${rate.toLocaleString("en-US")} readings/s for ${seconds} s`);
  const tickMs = 20;
  const perTick = (rate * tickMs) / 1000;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const tickStart = Date.now();
    const messages = Array.from({ length: perTick }, (_, i) => {
      const sensor = `Sensor${(i % 5) + 1}`;
      const ts = Date.now();
      const closeKey = `${sensor}|${ts - (ts % 10_000) + 1_000}`;
      // The first reading at or past end + grace of the previous window closes it.
      if (ts % 10_000 >= 1_000 && !closersProducedAt.has(closeKey))
        closersProducedAt.set(closeKey, ts);
      return { key: sensor, value: `{"ts":${ts},"value":${i % 101}}` };
    });
    await producer.send({ topic: raw, acks: 1, messages });
    const spent = Date.now() - tickStart;
    if (spent < tickMs) await new Promise((r) => setTimeout(r, tickMs - spent));
  }
  await new Promise((r) => setTimeout(r, 3_000));
  await consumer.disconnect();
  await harness.stop();
  await producer.disconnect();
  const sorted = [...latencies].sort((a, b) => a - b);
  const targetMs = batchingWindowSeconds * 1000 + 250;
  return [
    {
      scenario: "5 latency",
      case: `${rate.toLocaleString("en-US")} readings/s, ${sorted.length} windows, batching window ${batchingWindowSeconds} s`,
      metric: "p50 ms",
      value: summarize([percentile(sorted, 50)]),
    },
    {
      scenario: "5 latency",
      case: `${rate.toLocaleString("en-US")} readings/s, ${sorted.length} windows, batching window ${batchingWindowSeconds} s`,
      metric: "p99 ms",
      value: summarize([percentile(sorted, 99)]),
      target: `< ${targetMs} ms`,
      met: sorted.length > 0 && percentile(sorted, 99) < targetMs,
    },
  ];
};
