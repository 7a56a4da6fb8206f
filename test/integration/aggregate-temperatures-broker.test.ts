import { randomUUID } from "node:crypto";
import { KafkaJSError, type Producer, type ProducerBatch } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutputProduceError } from "../../functions/errors.ts";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import type { KafkaTriggerEvent } from "../../functions/kafka-trigger-event.ts";
import {
  buildTriggerEvent,
  localClusterArn,
  toTriggerRecord,
} from "../../functions/kafka-trigger-event-builder.ts";
import { WINDOW_ID_HEADER } from "../../functions/output-records.ts";
import { kafkaRecordSink } from "../../functions/record-sink.ts";
import { createTopicsWithLeaders } from "../../harness/commands/topics.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import { aggregateWith, rulesWith, type StoreFactory } from "../support/aggregate-handler-suite.ts";
import { dynamoStoreFor } from "../support/dynamodb-state.ts";
import {
  brokers,
  createTopic,
  readTopic,
  uniqueName,
  useBroker,
} from "../support/harness-fixtures.ts";
import { mskEvent, readingRecord } from "../support/trigger-events.ts";
import { bruteForceWindows, seedScenario } from "../support/window-fixtures.ts";

/**
 * aggregate-temperatures against a real broker: readings produced like the seed producer, consumed
 * back, turned into Kafka-trigger events exactly as Lambda builds them, aggregated, and the closed
 * windows read back from the output topic. Once per state store, each on topics (and, for
 * DynamoDB, a table) of its own.
 */
const { kafka, admin } = useBroker();

const freshTopics = async () => ({
  raw: await createTopic(admin, 3, "raw-temperature"),
  windows: await createTopic(admin, 1, "agg-temperature"),
  late: await createTopic(admin, 1, "agg-temperature-late"),
  deadLetters: await createTopic(admin, 1, "raw-temperature-dlq"),
});

let producer: Producer;

beforeAll(async () => {
  producer = kafka.producer(PRODUCER_CONFIG);
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
});

type Consumed = Awaited<ReturnType<typeof readTopic>>[number];

/** Batches of up to `size` records of one partition each, in offset order, built as the trigger builds them. */
const eventsFrom = (topic: string, consumed: Consumed[], size: number): KafkaTriggerEvent[] => {
  const byPartition = new Map<number, Consumed[]>();
  for (const c of consumed)
    byPartition.set(c.partition, [...(byPartition.get(c.partition) ?? []), c]);
  const source = {
    flavour: "msk" as const,
    bootstrapServers: brokers,
    clusterArn: localClusterArn(),
  };
  const events: KafkaTriggerEvent[] = [];
  for (const [partition, list] of byPartition) {
    list.sort((a, b) => Number(a.message.offset) - Number(b.message.offset));
    for (let i = 0; i < list.length; i += size) {
      events.push(
        buildTriggerEvent(
          source,
          list.slice(i, i + size).map((c) => toTriggerRecord(topic, partition, c.message)),
        ),
      );
    }
  }
  return events;
};

const stores: [string, StoreFactory][] = [
  ["in-memory", async () => new MemoryWindowStateStore()],
  ["DynamoDB Local", () => dynamoStoreFor()],
];

describe.each(stores)("aggregate-temperatures on the real broker, %s store", (_name, storeFor) => {
  it("turns produced readings into exactly the closed windows brute force predicts, once each", {
    timeout: 120_000,
  }, async () => {
    const topics = await freshTopics();
    const readings = seedScenario({ count: 3_000, sensors: 5, seed: 21, outOfOrder: 0.05 });
    const malformed = [
      "not json",
      JSON.stringify({ ts: "yesterday", value: 1 }),
      JSON.stringify({ value: 2 }),
    ];
    // The seed producer's format: naive local ISO time with microseconds, JSON encoded twice.
    const seedTs = (ms: number) => new Date(ms).toISOString().replace("Z", "000");
    await producer.send({
      topic: topics.raw,
      acks: -1,
      messages: [
        ...readings.map((r, i) => ({
          key: r.sensor,
          value:
            i % 2 === 0
              ? JSON.stringify(JSON.stringify({ ts: seedTs(r.ts), value: r.value }))
              : JSON.stringify({ ts: r.ts, value: r.value }),
          headers: { uuid: randomUUID() },
        })),
        ...malformed.map((value) => ({ key: "Sensor1", value })),
      ],
    });

    const consumed = await readTopic(kafka, topics.raw, readings.length + malformed.length);
    const sink = kafkaRecordSink(producer);
    const rules = rulesWith();
    const aggregate = aggregateWith(await storeFor(), sink, rules, {
      topics: { windows: topics.windows, late: topics.late, deadLetters: topics.deadLetters },
    });
    let deadLetters = 0;
    for (const event of eventsFrom(topics.raw, consumed, 250))
      deadLetters += (await aggregate(event)).deadLetters;
    expect(deadLetters).toBe(malformed.length);

    // Each sensor's readings sit in one partition in produce order, so brute force over the
    // produced sequence is what the stream means.
    const expected = bruteForceWindows(readings);

    const windows = await readTopic(kafka, topics.windows, expected.length);
    const emitted = windows.map(({ message }) => {
      const value = JSON.parse(message.value?.toString() ?? "{}");
      expect(message.key?.toString()).toBe(value.sensor);
      expect(message.headers?.[WINDOW_ID_HEADER]?.toString()).toBe(
        `${value.sensor}:${value.start}`,
      );
      return { sensor: value.sensor, start: value.start, end: value.end, ...value.temperature };
    });
    emitted.sort((a, b) => a.sensor.localeCompare(b.sensor) || a.start - b.start);
    expect(emitted).toEqual(expected);
    const dlq = await readTopic(kafka, topics.deadLetters, malformed.length);
    expect(dlq.map((d) => JSON.parse(d.message.value?.toString() ?? "{}").reason).sort()).toEqual([
      "bad-ts",
      "missing-ts",
      "not-json",
    ]);
  });
});

describe("records near Kafka's 1 MB limit, on topics that keep it (max.message.bytes, as MSK)", () => {
  const KAFKA_DEFAULT_MAX_BYTES = "1048588";
  const limitedTopic = async (prefix: string) => {
    const topic = uniqueName(prefix);
    await createTopicsWithLeaders(admin, [
      {
        topic,
        numPartitions: 1,
        configEntries: [{ name: "max.message.bytes", value: KAFKA_DEFAULT_MAX_BYTES }],
      },
    ]);
    return topic;
  };

  it("dead-letters an 800 KB value, two of 450 KB from one sensor and a 2 KB key within the limit; the batch succeeds", async () => {
    const topics = {
      raw: await limitedTopic("raw-temperature"),
      windows: await limitedTopic("agg-temperature"),
      late: await limitedTopic("agg-temperature-late"),
      deadLetters: await limitedTopic("raw-temperature-dlq"),
    };
    const reading = JSON.stringify({ ts: Date.UTC(2024, 4, 1), value: 20 });
    const inputs = [
      { key: "Sensor1", value: "x".repeat(800_000) },
      { key: "S".repeat(2_000), value: reading },
      { key: "Sensor1", value: reading },
      // Dead letters of ~600 KB each, carried whole, to one partition: two requests, not one
      // record batch of 1.2 MB.
      { key: "Sensor2", value: "y".repeat(450_000) },
      { key: "Sensor2", value: "z".repeat(450_000) },
    ];
    // One at a time: the input topic holds Kafka's limit too.
    for (const message of inputs)
      await producer.send({ topic: topics.raw, acks: -1, messages: [message] });
    const consumed = await readTopic(kafka, topics.raw, 5);
    const aggregate = aggregateWith(
      new MemoryWindowStateStore(),
      kafkaRecordSink(producer),
      rulesWith(),
      {
        topics: { windows: topics.windows, late: topics.late, deadLetters: topics.deadLetters },
      },
    );
    const [event] = eventsFrom(topics.raw, consumed, 10);
    expect(await aggregate(event as KafkaTriggerEvent)).toMatchObject({
      deadLetters: 4,
      aggregated: 1,
    });
    const letters = (await readTopic(kafka, topics.deadLetters, 4)).map((d) => ({
      key: d.message.key?.toString() ?? null,
      value: JSON.parse(d.message.value?.toString() ?? "{}"),
    }));
    expect(letters.map((l) => l.value.reason)).toEqual([
      "not-json",
      "key-too-long",
      "not-json",
      "not-json",
    ]);
    expect(letters[2]?.value.original.value).toHaveLength(600_000); // carried whole, base64
    expect(letters[0]?.value.original).toMatchObject({
      value: null,
      omitted: { valueBytes: 800_000 },
    });
    expect(letters[0]?.value.source.offset).toBe(0);
    expect(letters[1]).toMatchObject({
      key: "S".repeat(2_000),
      value: { original: { key: expect.any(String) } },
    });
  });
});

describe.each(stores)("a produce that fails part-way, %s store", (_name, storeFor) => {
  it("is retried from where it failed: each of the 600 windows once on the topic", {
    timeout: 60_000,
  }, async () => {
    const windowsTopic = await createTopic(admin, 3, "agg-temperature");
    // 600 sensors read at 1 s and at 20 s: one batch closes 600 windows, two produce requests.
    const sensors = Array.from({ length: 600 }, (_, i) => `sensor-${i}`);
    const records = [1_000, 20_000].flatMap((ts, round) =>
      sensors.map((sensor, i) =>
        readingRecord({ sensor, ts: Date.UTC(2024, 4, 1) + ts, offset: round * 600 + i }),
      ),
    );
    let requests = 0;
    // The client wrapper: the second request fails before it is sent, once.
    const failingSecond = {
      sendBatch: async (batch: ProducerBatch) => {
        if (++requests === 2) throw new KafkaJSError("the broker went away (injected)");
        return producer.sendBatch(batch);
      },
    } as Producer;
    const topics = { windows: windowsTopic, late: windowsTopic, deadLetters: windowsTopic };
    const aggregate = aggregateWith(await storeFor(), kafkaRecordSink(failingSecond), rulesWith(), {
      topics,
    });
    const failure = await aggregate(mskEvent(records)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OutputProduceError);
    expect((failure as OutputProduceError).sentRecords).toBe(500);
    await aggregate(mskEvent(records)); // the trigger's retry
    const produced = await readTopic(kafka, windowsTopic, 600);
    const ids = produced.map((p) => p.message.headers?.[WINDOW_ID_HEADER]?.toString());
    expect(new Set(ids).size).toBe(600);
    await expect(readTopic(kafka, windowsTopic, 601, 2_000)).rejects.toThrow("only 600/601");
  });
});
