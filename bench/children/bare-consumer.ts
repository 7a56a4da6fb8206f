/**
 * The floor the harness is compared with: a bare kafkajs consumer reading the same topic with the
 * same fetch settings as the harness's event source mapping, doing nothing with the records but
 * count them. Prints records and the time from joining the group to the end of the last batch
 * (connection set-up and group join left out, as for the harness).
 *
 * With `produce`, it also produces as many window records as the function emits for the readings
 * it read, as the function does (its producer settings, its record sink, records of the same shape
 * and header), with a producer per partition as the harness has a sandbox per partition in flight,
 * and nothing else: what Kafka's client and broker alone cost the pipeline.
 */
import { randomUUID } from "node:crypto";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { temperatureAggregation } from "../../core/temperature-aggregation.ts";
import { ClosedBy } from "../../core/window-state.ts";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import { windowRecord } from "../../functions/output-records.ts";
import {
  kafkaRecordSink,
  type OutputRecord,
  type RecordSink,
} from "../../functions/record-sink.ts";
import { fetchSettings } from "../../harness/emulator/fetch-settings.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { childInput, peakRssMb, reportResult } from "./protocol.ts";

export interface BareConsumerInput {
  topic: string;
  total: number;
  /** The harness's batch size it is compared with: the fetch settings follow it. */
  batchSize: number;
  /** Also produce window records: `perReading` of them for each reading read (fractions carried over). */
  produce?: { topic: string; perReading: number };
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
const output = input.produce === undefined ? undefined : windowsOutput(kafka, input.produce);
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
      await output?.after(batch.partition, batch.messages.length);
      lastEnd = performance.now();
      if (records >= input.total) resolve();
    },
  });
});
await consumer.disconnect();
await output?.disconnect();
reportResult({
  records,
  ms: joinedAt === undefined ? 0 : lastEnd - joinedAt,
  peakRssMb: peakRssMb(),
} satisfies BareConsumerResult);

/**
 * The windows' records a function emits for the readings read, produced as it produces them, by a
 * producer per partition. Five sensors, windows of 10 s one after the other, a summary of four
 * readings: the shape and size of the bench's windows.
 */
function windowsOutput(kafka: Kafka, produce: NonNullable<BareConsumerInput["produce"]>) {
  const producers = new Map<number, Promise<{ producer: Producer; sink: RecordSink }>>();
  const producerOf = (partition: number) => {
    let connected = producers.get(partition);
    if (connected === undefined) {
      const producer = kafka.producer(PRODUCER_CONFIG);
      connected = producer.connect().then(() => ({ producer, sink: kafkaRecordSink(producer) }));
      producers.set(partition, connected);
    }
    return connected;
  };
  let owed = 0;
  let windows = 0;
  const nextWindow = (): OutputRecord => {
    windows++;
    const start = 1_700_000_000_000 + Math.floor(windows / 5) * 10_000;
    const result = { count: 4, min: 20.25, max: 23.5, mean: 21.8125 };
    const window = { sensor: `sensor-${windows % 5}`, start, end: start + 10_000, result };
    return windowRecord({ ...window, closedBy: ClosedBy.streamTime }, temperatureAggregation);
  };
  return {
    after: async (partition: number, readings: number) => {
      owed += readings * produce.perReading;
      const records: OutputRecord[] = [];
      for (; owed >= 1; owed--) records.push(nextWindow());
      if (records.length === 0) return;
      const { sink } = await producerOf(partition);
      await sink.send([{ topic: produce.topic, records }]);
    },
    disconnect: async () => {
      for (const connected of producers.values()) await (await connected).producer.disconnect();
    },
  };
}
