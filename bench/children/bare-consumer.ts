/**
 * The floor the harness is compared with: a bare kafkajs consumer reading the same topic with the
 * same fetch settings as the harness's event source mapping, doing nothing with the records but
 * count them. Prints records and the time from joining the group to the end of the last batch
 * (connection set-up and group join left out, as for the harness).
 */
import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { fetchSettings } from "../../harness/emulator/fetch-settings.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { childInput, peakRssMb, reportResult } from "./protocol.ts";

export interface BareConsumerInput {
  topic: string;
  total: number;
  /** The harness's batch size it is compared with: the fetch settings follow it. */
  batchSize: number;
}

export interface BareConsumerResult {
  records: number;
  ms: number;
  peakRssMb: number;
}

const input = childInput<BareConsumerInput>();
const kafka = new Kafka({
  clientId: "bench-bare-consumer",
  brokers: readStackEndpoints().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
// The harness's fetch settings for the same batch size, with a batching window of 0.
const consumer = kafka.consumer({
  groupId: `bench-bare-${randomUUID()}`,
  ...fetchSettings({ batchSize: input.batchSize, maximumBatchingWindowInSeconds: 0 }),
});
await consumer.connect();
await consumer.subscribe({ topic: input.topic, fromBeginning: true });
let records = 0;
let joinedAt: number | undefined;
let lastEnd = 0;
consumer.on(consumer.events.GROUP_JOIN, () => {
  joinedAt ??= performance.now();
});
await new Promise<void>((resolve) => {
  void consumer.run({
    partitionsConsumedConcurrently: 10,
    eachBatch: async ({ batch }) => {
      records += batch.messages.length;
      lastEnd = performance.now();
      if (records >= input.total) resolve();
    },
  });
});
await consumer.disconnect();
reportResult({
  records,
  ms: joinedAt === undefined ? 0 : lastEnd - joinedAt,
  peakRssMb: peakRssMb(),
} satisfies BareConsumerResult);
