import { pathToFileURL } from "node:url";
import type { Producer } from "kafkajs";
import { describe, expect, it } from "vitest";
import type { TemperatureState } from "../../core/temperature-aggregation.ts";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import type { WindowStateStore } from "../../functions/partition-step.ts";
import { kafkaRecordSink } from "../../functions/record-sink.ts";
import { kafkaFunctionNamed, scheduledFunctionNamed } from "../../functions/registry.ts";
import { createSweepHandler } from "../../functions/sweep-idle-windows/sweep-handler.ts";
import { resolveTrigger } from "../../functions/trigger-declaration.ts";
import {
  prepareStateStore,
  useLocalAwsDefaults,
} from "../../harness/commands/prepare-state-store.ts";
import { type Harness, startHarness } from "../../harness/emulator/harness.ts";
import { silentLogger } from "../../lib/logger.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import { aggregateWith, rulesWith } from "../support/aggregate-handler-suite.ts";
import { dynamoStoreFor } from "../support/dynamodb-state.ts";
import {
  brokers,
  createTopic,
  eventually,
  uniqueName,
  useBroker,
} from "../support/harness-fixtures.ts";
import { bruteForce, type SeedReading } from "../support/window-fixtures.ts";

const { kafka, admin } = useBroker();
/** Twenty sensors on three partitions: batches of every partition race the sweep. */
const SENSORS = Array.from({ length: 20 }, (_, n) => `Sensor${n + 1}`);
/**
 * Each sensor reads every 400 ms while the producer runs: a timeout ten times that closes only the
 * windows of sensors that really went quiet, even when a loaded machine delays a batch by seconds.
 */
const IDLE_TIMEOUT_MS = 4_000;

const freshTopics = async () => ({
  raw: await createTopic(admin, 3, "raw"),
  windows: await createTopic(admin, 1, "agg"),
  late: await createTopic(admin, 1, "late"),
  deadLetters: await createTopic(admin, 1, "dlq"),
});

/** Live readings for a few seconds, event time = now, as the seed producer sends them; then stop. */
const produceLiveReadings = async (producer: Producer, topic: string, forMs: number) => {
  const readings: SeedReading[] = [];
  const until = Date.now() + forMs;
  for (let i = 0; Date.now() < until; i++) {
    const r = {
      sensor: SENSORS[i % SENSORS.length] as string,
      ts: Date.now(),
      value: i % 101,
      partition: 0,
      offset: i,
    };
    readings.push(r);
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: r.sensor, value: JSON.stringify({ ts: r.ts, value: r.value }) }],
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { readings, until };
};

interface WindowOut {
  sensor: string;
  start: number;
  end: number;
  closedBy: string;
  temperature: Record<string, number>;
}

/**
 * Reads the windows topic until every window of `readings` arrived, including each sensor's last
 * (which no later reading will ever close), stops the harness and checks nothing more came.
 */
const expectEveryWindowOnce = async (
  harness: Harness,
  windows: string,
  readings: SeedReading[],
) => {
  // Every window, including each sensor's last (which no later reading will ever close).
  const everyWindow = bruteForce(readings, { idleAtEnd: true }).windows;
  const received: WindowOut[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName("reader") });
  await consumer.connect();
  await consumer.subscribe({ topic: windows, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) =>
      void received.push(JSON.parse(message.value?.toString() ?? "{}")),
  });
  await eventually(
    "every sensor's last window",
    () => received.length >= everyWindow.length,
    30_000,
  );
  // Nothing more may come: once the harness has stopped (its batches and sweeps done), read the
  // topic to its end and compare everything it holds.
  await harness.stop();
  const [end] = await admin.fetchTopicOffsets(windows);
  await eventually("the windows topic read to its end", () => received.length >= Number(end?.high));
  await consumer.disconnect();

  const got = received
    .map((w) => ({ sensor: w.sensor, start: w.start, end: w.end, ...w.temperature }))
    .sort((a, b) => a.sensor.localeCompare(b.sensor) || a.start - b.start);
  expect(got).toEqual(everyWindow);
  const lastOfEach = new Map(received.map((w) => [w.sensor, w]));
  expect([...lastOfEach.values()].every((w) => w.closedBy === "idle")).toBe(true);
};

/**
 * Puts the environment back as it was. Assigning `process.env` would not: the real environment,
 * which new worker threads copy, keeps the values set through it.
 */
const restoreEnv = (saved: NodeJS.ProcessEnv) => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
};

describe("idle closing end to end, on the real broker", () => {
  const stores: [string, () => Promise<WindowStateStore<TemperatureState>>][] = [
    ["in-memory", async () => new MemoryWindowStateStore()],
    ["DynamoDB Local", () => dynamoStoreFor()],
  ];
  it.each(stores)(
    "a producer that stops, a 1 s sweep racing the batches, %s store: every window once, the last ones idle",
    {
      timeout: 60_000,
    },
    async (_name, newStore) => {
      const { raw, ...topics } = await freshTopics();
      const rules = rulesWith();
      const idleTimeoutMs = IDLE_TIMEOUT_MS;
      const store = await newStore();
      const producer = kafka.producer(PRODUCER_CONFIG);
      await producer.connect();
      const sink = kafkaRecordSink(producer);
      const aggregate = aggregateWith(store, sink, rules, { topics, now: Date.now, idleTimeoutMs });
      const sweep = createSweepHandler({
        rules,
        store,
        sink,
        topics,
        idleTimeoutMs,
        logger: silentLogger,
        now: Date.now,
      });
      const harness = await startHarness({
        functions: [
          {
            name: "aggregate-temperatures",
            handler: async (event) => void (await aggregate(event)),
            trigger: resolveTrigger("aggregate-temperatures", {
              topic: raw,
              consumerGroupId: uniqueName("group"),
              maximumBatchingWindowInSeconds: 0,
            }),
          },
        ],
        scheduled: [{ name: "sweep-idle-windows", handler: sweep, periodMs: 1_000 }],
        kafka,
        bootstrapServers: brokers,
        logger: silentLogger,
      });
      const { readings } = await produceLiveReadings(producer, raw, 4_000);
      await expectEveryWindowOnce(harness, topics.windows, readings);
      await producer.disconnect();
    },
  );

  it.each(["memory", "dynamodb"])(
    "the deployed functions, each in its own sandboxes, share their state through STATE_STORE=%s",
    { timeout: 60_000 },
    async (stateStore) => {
      const topics = await freshTopics();
      const env = {
        STATE_STORE: stateStore,
        STATE_TABLE: uniqueName("state"),
        DYNAMODB_ENDPOINT: readStackEndpoints().dynamodbEndpoint,
        KAFKA_BROKERS: brokers.join(","),
        OUTPUT_TOPIC: topics.windows,
        LATE_TOPIC: topics.late,
        DEAD_LETTER_TOPIC: topics.deadLetters,
        IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      };
      // Sandboxes read their configuration from the environment they start with, as Lambda's do.
      const saved = { ...process.env };
      Object.assign(process.env, env);
      useLocalAwsDefaults(process.env);
      try {
        await prepareStateStore(process.env, silentLogger);
        const aggregate = kafkaFunctionNamed("aggregate-temperatures");
        const sweep = scheduledFunctionNamed("sweep-idle-windows");
        const harness = await startHarness({
          functions: [
            {
              name: "aggregate-temperatures",
              module: pathToFileURL(aggregate.handlerFile).href,
              memorySizeMb: aggregate.trigger.memorySizeMb,
              trigger: resolveTrigger("aggregate-temperatures", {
                ...aggregate.trigger,
                topic: topics.raw,
                consumerGroupId: uniqueName("group"),
                maximumBatchingWindowInSeconds: 0,
              }),
            },
          ],
          scheduled: [
            {
              name: "sweep-idle-windows",
              module: pathToFileURL(sweep.handlerFile).href,
              memorySizeMb: sweep.schedule.memorySizeMb,
              periodMs: 1_000,
            },
          ],
          kafka,
          bootstrapServers: brokers,
          logger: silentLogger,
        });
        const producer = kafka.producer(PRODUCER_CONFIG);
        await producer.connect();
        const { readings } = await produceLiveReadings(producer, topics.raw, 3_000);
        await expectEveryWindowOnce(harness, topics.windows, readings);
        await producer.disconnect();
      } finally {
        restoreEnv(saved);
      }
    },
  );
});
