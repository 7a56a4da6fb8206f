/**
 * Runs in its own process for the end-to-end scenario: the harness with aggregate-temperatures
 * (in-memory store, real Kafka output) over a pre-filled topic, until every record is delivered.
 * Prints one JSON line: records, milliseconds from the first invocation to the last, peak RSS.
 */
import { readFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { type TemperatureState, temperatureAggregation } from "../core/temperature-aggregation.ts";
import { createAggregateHandler } from "../functions/aggregate-temperatures/aggregate-handler.ts";
import { kafkaRecordSink } from "../functions/record-sink.ts";
import { resolveTrigger } from "../functions/trigger-declaration.ts";
import { startHarness } from "../harness/harness.ts";
import { silentLogger } from "../lib/logger.ts";
import { readStackEndpoints } from "../stack/endpoints.ts";
import { MemoryWindowStateStore } from "../state/memory-window-state-store.ts";

const [
  topic = "",
  group = "",
  batchSizeText = "100",
  totalText = "0",
  output = "agg-temperature-bench",
] = process.argv.slice(2);
const total = Number(totalText);
const brokers = readStackEndpoints().kafkaBrokers;
const kafka = new Kafka({ clientId: "bench-harness", brokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
const aggregate = createAggregateHandler({
  rules: {
    spec: { sizeMs: 10_000, graceMs: 1_000 },
    closing: "key",
    aggregation: temperatureAggregation,
  },
  decode: { timestampSource: "payload", maxEventTimeSkewMs: 86_400_000 * 30 },
  topics: { windows: output, late: output, deadLetters: output },
  store: new MemoryWindowStateStore<TemperatureState>(),
  sink: kafkaRecordSink(producer),
  logger: silentLogger,
  now: Date.now,
});
// From starting the harness to the last record, group join included, as for the bare consumer.
const first = performance.now();
let delivered = 0;
let last = 0;
const harness = await startHarness({
  functions: [
    {
      name: "aggregate-temperatures",
      trigger: resolveTrigger("aggregate-temperatures", {
        topic,
        consumerGroupId: group,
        batchSize: Number(batchSizeText),
        maximumBatchingWindowInSeconds: 0,
      }),
      handler: async (event) => {
        await aggregate(event);
        for (const records of Object.values(event.records)) delivered += records.length;
        last = performance.now();
      },
    },
  ],
  kafka,
  bootstrapServers: brokers,
  logger: silentLogger,
});
const peakRssMb = () =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024;
while (delivered < total) await new Promise((r) => setTimeout(r, 20));
await harness.stop();
await producer.disconnect();
process.stdout.write(
  `${JSON.stringify({ records: delivered, ms: last - first, peakRssMb: peakRssMb() })}\n`,
);
process.exit(0);
