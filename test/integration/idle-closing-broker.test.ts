import { describe, expect, it } from "vitest";
import type { TemperatureState } from "../../core/temperature-aggregation.ts";
import type { WindowStateStore } from "../../functions/partition-step.ts";
import { kafkaRecordSink } from "../../functions/record-sink.ts";
import { createSweepHandler } from "../../functions/sweep-idle-windows/sweep-handler.ts";
import { resolveTrigger } from "../../functions/trigger-declaration.ts";
import { startHarness } from "../../harness/harness.ts";
import { silentLogger } from "../../lib/logger.ts";
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
import { bruteForceWindows, type SeedReading } from "../support/window-fixtures.ts";

const { kafka, admin } = useBroker();

const stores: [string, () => Promise<WindowStateStore<TemperatureState>>][] = [
  ["in-memory", async () => new MemoryWindowStateStore()],
  ["DynamoDB Local", () => dynamoStoreFor()],
];

describe.each(stores)(
  "idle closing end to end, on the real broker, %s store",
  (_name, newStore) => {
    it("a producer that stops, 20 sensors on 3 partitions, a 1 s sweep racing the batches: every window once, the last ones idle", {
      timeout: 60_000,
    }, async () => {
      const raw = await createTopic(admin, 3, "raw");
      const windows = await createTopic(admin, 1, "agg");
      const topics = {
        windows,
        late: await createTopic(admin, 1, "late"),
        deadLetters: await createTopic(admin, 1, "dlq"),
      };
      const rules = rulesWith();
      const idleTimeoutMs = 2_000;
      const store = await newStore();
      const producer = kafka.producer({ allowAutoTopicCreation: false });
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

      // Live readings for a few seconds, event time = now, as the seed producer sends them; then stop.
      const readings: SeedReading[] = [];
      const until = Date.now() + 4_000;
      for (let i = 0; Date.now() < until; i++) {
        const r = {
          sensor: `Sensor${(i % 20) + 1}`,
          ts: Date.now(),
          value: i % 101,
          partition: 0,
          offset: i,
        };
        readings.push(r);
        await producer.send({
          topic: raw,
          acks: -1,
          messages: [{ key: r.sensor, value: JSON.stringify({ ts: r.ts, value: r.value }) }],
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      // Every window, including each sensor's last (which no later reading will ever close).
      const everyWindow = bruteForceWindows([
        ...readings,
        ...Array.from({ length: 20 }, (_, n) => ({
          sensor: `Sensor${n + 1}`,
          ts: Number.MAX_SAFE_INTEGER / 2,
          value: 0,
          partition: 0,
          offset: 0,
        })),
      ]).filter((w) => w.start < until);
      const received: {
        sensor: string;
        start: number;
        end: number;
        closedBy: string;
        temperature: Record<string, number>;
      }[] = [];
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
      await new Promise((r) => setTimeout(r, 1_000)); // nothing more may come
      await consumer.disconnect();
      await harness.stop();
      await producer.disconnect();

      const got = received
        .map((w) => ({ sensor: w.sensor, start: w.start, end: w.end, ...w.temperature }))
        .sort((a, b) => a.sensor.localeCompare(b.sensor) || a.start - b.start);
      expect(got).toEqual(everyWindow);
      const lastOfEach = new Map(received.map((w) => [w.sensor, w]));
      expect([...lastOfEach.values()].every((w) => w.closedBy === "idle")).toBe(true);
    });
  },
);
