import { describe, expect, it } from "vitest";
import { TimestampSource } from "../../core/decode-reading.ts";
import {
  type TemperatureState,
  type TemperatureSummary,
  temperatureAggregation,
} from "../../core/temperature-aggregation.ts";
import type { WindowRules } from "../../core/window-engine.ts";
import type { ClosingStrategyName } from "../../core/window-state.ts";
import {
  type AggregateDependencies,
  createAggregateHandler,
} from "../../functions/aggregate-temperatures/aggregate-handler.ts";
import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import { WINDOW_ID_HEADER } from "../../functions/output-records.ts";
import type { WindowStateStore } from "../../functions/partition-step.ts";
import type { RecordSink } from "../../functions/record-sink.ts";
import { MemoryRecordSink } from "../../functions/testing/memory-record-sink.ts";
import { silentLogger } from "../../lib/logger.ts";
import { fixtureEvent, mskEvent, rawRecord, readingRecord } from "./trigger-events.ts";
import { bruteForceWindows, randomBatches, seedScenario, toRecords } from "./window-fixtures.ts";

export type TemperatureRules = WindowRules<TemperatureState, TemperatureSummary>;
export type StoreFactory = () => Promise<WindowStateStore<TemperatureState>>;

export const TOPICS = {
  windows: "agg-temperature",
  late: "agg-temperature-late",
  deadLetters: "raw-temperature-dlq",
};

export const rulesWith = (closing: ClosingStrategyName = "key"): TemperatureRules => ({
  spec: { sizeMs: 10_000, graceMs: 1_000 },
  closing,
  aggregation: temperatureAggregation,
});

/** A handler over `store` and `sink`, with the defaults of the seed pipeline. */
export const aggregateWith = (
  store: WindowStateStore<TemperatureState>,
  sink: RecordSink,
  rules: TemperatureRules = rulesWith(),
  overrides: Partial<AggregateDependencies<TemperatureState, TemperatureSummary>> = {},
) =>
  createAggregateHandler({
    rules,
    decode: { timestampSource: TimestampSource.payload, maxEventTimeSkewMs: 86_400_000 },
    topics: TOPICS,
    store,
    sink,
    logger: silentLogger,
    now: () => Date.UTC(2024, 4, 1, 12),
    ...overrides,
  });

/**
 * Invokes `handler` until it succeeds, as the Kafka trigger retries a batch after a retryable
 * error (at most `attempts` times); any other error is thrown at once.
 */
export const retryingInvocations =
  <E, R>(handler: (event: E) => Promise<R>, attempts = 100) =>
  async (event: E): Promise<R> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await handler(event);
      } catch (error) {
        if ((error as { retryable?: boolean }).retryable !== true || attempt >= attempts)
          throw error;
      }
    }
  };

interface WindowValue {
  sensor: string;
  start: number;
  end: number;
  time: number;
  temperature: TemperatureSummary;
}

/** The closed windows a sink received, flattened and sorted as `bruteForceWindows` returns them. */
export const emittedWindows = (sink: MemoryRecordSink) =>
  sink
    .values<WindowValue>(TOPICS.windows)
    .map((w) => ({ sensor: w.sensor, start: w.start, end: w.end, ...w.temperature }))
    .sort((a, b) => a.sensor.localeCompare(b.sensor) || a.start - b.start);

const at = (
  sensor: string,
  times: number[],
  firstOffset = 0,
  partition = 0,
): KafkaTriggerRecord[] =>
  times.map((ts, i) =>
    readingRecord({ sensor, ts, value: 10 + i, offset: firstOffset + i, partition }),
  );

/** A sink that fails the first send carrying records for `topic`, as a broker that went away. */
const sinkFailingOnce = (inner: RecordSink, topic: string): RecordSink => {
  let armed = true;
  return {
    async send(batches) {
      if (armed && batches.some((b) => b.topic === topic && b.records.length > 0)) {
        armed = false;
        throw new Error(`broker unavailable while producing to ${topic} (injected)`);
      }
      return inner.send(batches);
    },
  };
};

/**
 * A store that crashes once on `operation` (the commit of the batch's state and outputs, or the
 * mark of its outputs emitted), before or after doing it.
 */
export const storeCrashingOnce = <S>(
  inner: WindowStateStore<S>,
  operation: "commit" | "markEmitted",
  when: "before" | "after",
): WindowStateStore<S> => {
  let armed = true;
  const crash = async <T>(work: () => Promise<T>): Promise<T> => {
    if (!armed) return work();
    if (when === "before") {
      armed = false;
      throw new Error(`crash before ${operation} (injected)`);
    }
    await work(); // a failure here (an injected throttle) leaves the crash armed for the retry
    armed = false;
    throw new Error(`crash after ${operation} (injected)`);
  };
  return {
    load: (id) => inner.load(id),
    readOutputs: (id, entries) => inner.readOutputs(id, entries),
    findPartitionsIdle: (now) => inner.findPartitionsIdle(now),
    commit: (id, change) =>
      operation === "commit" ? crash(() => inner.commit(id, change)) : inner.commit(id, change),
    markProduced: (id, seq, produced) => inner.markProduced(id, seq, produced),
    markEmitted: (id, seqs, after) =>
      operation === "markEmitted"
        ? crash(() => inner.markEmitted(id, seqs, after))
        : inner.markEmitted(id, seqs, after),
  };
};

/**
 * The behaviour of `aggregate-temperatures` over a state store: the same assertions for every
 * store, so the in-memory store used in unit tests and DynamoDB in production can't drift.
 */
export const describeAggregateHandler = (
  storeName: string,
  newStore: StoreFactory,
  options: { retryRetryable?: boolean } = {},
) => {
  /** The handler as the suite invokes it: retried on retryable errors when the store injects them. */
  const handlerOver = (...args: Parameters<typeof aggregateWith>) =>
    options.retryRetryable ? retryingInvocations(aggregateWith(...args)) : aggregateWith(...args);
  describe(`aggregate-temperatures over the ${storeName} store`, () => {
    it("emits each closed window once, in the seed's shape, keyed by sensor, with a window id", async () => {
      const sink = new MemoryRecordSink();
      const aggregate = handlerOver(await newStore(), sink);
      await aggregate(mskEvent(at("Sensor1", [1_000, 4_000, 9_999, 11_000])));
      const [record] = sink.records(TOPICS.windows);
      expect(record?.key).toBe("Sensor1");
      expect(record?.headers?.[WINDOW_ID_HEADER]).toBe("Sensor1:0");
      expect(JSON.parse(record?.value.toString() ?? "")).toEqual({
        sensor: "Sensor1",
        start: 0,
        end: 10_000,
        time: 10_000,
        temperature: { count: 3, min: 10, max: 12, mean: 11 },
        closedBy: "stream-time",
      });
      expect(sink.records(TOPICS.windows)).toHaveLength(1);
    });

    it("keeps stream time across invocations (the store, not the process, remembers)", async () => {
      const store = await newStore();
      const sink = new MemoryRecordSink();
      await handlerOver(store, sink)(mskEvent(at("S", [1_000, 2_000])));
      expect(emittedWindows(sink)).toEqual([]);
      await handlerOver(store, sink)(mskEvent(at("S", [11_000], 2)));
      expect(emittedWindows(sink)).toEqual([
        { sensor: "S", start: 0, end: 10_000, count: 2, min: 10, max: 11, mean: 10.5 },
      ]);
    });

    it("sends late readings to the late topic with their window and lateness, and counts them", async () => {
      const sink = new MemoryRecordSink();
      const summary = await handlerOver(
        await newStore(),
        sink,
      )(mskEvent(at("S", [1_000, 14_000, 2_000])));
      expect(summary.late).toBe(1);
      expect(sink.values(TOPICS.late)).toEqual([
        expect.objectContaining({
          sensor: "S",
          eventTime: 2_000,
          windowStart: 0,
          windowEnd: 10_000,
          lateByMs: 3_000,
        }),
      ]);
    });

    it("dead-letters bad records with reason and coordinates, and still processes the good ones", async () => {
      const sink = new MemoryRecordSink();
      const aggregate = handlerOver(await newStore(), sink);
      const summary = await aggregate(
        mskEvent([
          readingRecord({ sensor: "S", ts: 1_000, offset: 0 }),
          rawRecord(1, "not json"),
          rawRecord(2, null),
          rawRecord(3, JSON.stringify({ ts: 2_000, value: null })),
          readingRecord({ sensor: "S", ts: 12_000, offset: 4 }),
        ]),
      );
      expect(summary).toMatchObject({ records: 5, deadLetters: 3, windowsClosed: 1 });
      expect(sink.values(TOPICS.deadLetters)).toEqual([
        expect.objectContaining({
          reason: "not-json",
          source: expect.objectContaining({ topic: "raw-temperature", partition: 0, offset: 1 }),
        }),
        expect.objectContaining({
          reason: "missing-value",
          source: expect.objectContaining({ offset: 2 }),
        }),
        expect.objectContaining({
          reason: "bad-value",
          source: expect.objectContaining({ offset: 3 }),
        }),
      ]);
      const [first] = sink.values<{ original: { key: string; value: string } }>(TOPICS.deadLetters);
      expect(Buffer.from(first?.original.value ?? "", "base64").toString()).toBe("not json");
    });

    it("dead-letters the AWS documentation's example event without failing", async () => {
      const sink = new MemoryRecordSink();
      const summary = await handlerOver(
        await newStore(),
        sink,
      )(fixtureEvent("msk-documentation-event.json"));
      expect(summary).toMatchObject({ records: 1, deadLetters: 1 });
      expect(sink.values(TOPICS.deadLetters)).toEqual([
        expect.objectContaining({
          reason: "not-json",
          source: {
            topic: "mytopic",
            partition: 0,
            offset: 15,
            timestamp: 1545084650987,
            timestampType: "CREATE_TIME",
          },
          original: expect.objectContaining({ value: "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==" }),
        }),
      ]);
    });

    it("reads the seed producer's double-encoded values", async () => {
      const sink = new MemoryRecordSink();
      await handlerOver(await newStore(), sink)(fixtureEvent("seed-double-encoded-event.json"));
      expect(emittedWindows(sink)).toEqual([
        expect.objectContaining({ sensor: "Sensor4", count: 2, min: 40, max: 44, mean: 42 }),
      ]);
    });

    describe("replays (at-least-once delivery) change nothing", () => {
      it("the same batch twice", async () => {
        const store = await newStore();
        const sink = new MemoryRecordSink();
        const aggregate = handlerOver(store, sink);
        const event = mskEvent(at("S", [1_000, 2_000, 11_000, 12_000, 25_000]));
        await aggregate(event);
        const after = emittedWindows(sink);
        const again = await aggregate(event);
        expect(again).toMatchObject({ duplicates: 5, windowsClosed: 0, aggregated: 0 });
        expect(emittedWindows(sink)).toEqual(after);
        await aggregate(mskEvent(at("S", [40_000], 5)));
        expect(emittedWindows(sink).map((w) => w.count)).toEqual([2, 2, 1]);
      });

      it("a batch overlapping the previous one (same records plus new ones)", async () => {
        const records = at("S", [1_000, 2_000, 3_000, 11_000, 12_000, 13_000, 30_000]);
        const oneGo = new MemoryRecordSink();
        await handlerOver(await newStore(), oneGo)(mskEvent(records));
        const overlapped = new MemoryRecordSink();
        const aggregate = handlerOver(await newStore(), overlapped);
        await aggregate(mskEvent(records.slice(0, 4)));
        await aggregate(mskEvent(records.slice(2, 6)));
        await aggregate(mskEvent(records));
        expect(emittedWindows(overlapped)).toEqual(emittedWindows(oneGo));
        expect(overlapped.records(TOPICS.windows)).toHaveLength(2);
      });

      it("late and dead-letter output is not repeated by a replay after success", async () => {
        const sink = new MemoryRecordSink();
        const aggregate = handlerOver(await newStore(), sink);
        const event = mskEvent([...at("S", [1_000, 14_000, 2_000]), rawRecord(3, "{")]);
        await aggregate(event);
        await aggregate(event);
        expect(sink.records(TOPICS.late)).toHaveLength(1);
        expect(sink.records(TOPICS.deadLetters)).toHaveLength(1);
      });
    });

    describe("crashes, then the retried batch", () => {
      const records = at("S", [1_000, 2_000, 11_000, 12_000, 25_000]);
      const expected = [
        { sensor: "S", start: 0, end: 10_000, count: 2, min: 10, max: 11, mean: 10.5 },
        { sensor: "S", start: 10_000, end: 20_000, count: 2, min: 12, max: 13, mean: 12.5 },
      ];
      const windowIds = (sink: MemoryRecordSink) =>
        sink.records(TOPICS.windows).map((r) => r.headers?.[WINDOW_ID_HEADER]);

      type Store = WindowStateStore<TemperatureState>;
      const asIs = <T>(x: T) => x;
      it.each([
        [
          "before the commit of state and outputs",
          (s: Store) => storeCrashingOnce(s, "commit", "before"),
          asIs<RecordSink>,
        ],
        [
          "after the commit, before producing the outputs",
          asIs<Store>,
          (k: RecordSink) => sinkFailingOnce(k, TOPICS.windows),
        ],
        [
          "after marking the windows emitted (the offset commit is lost)",
          (s: Store) => storeCrashingOnce(s, "markEmitted", "after"),
          asIs<RecordSink>,
        ],
      ])(
        "crash %s: exact aggregates, each window once",
        async (_point, crashingStore, crashingSink) => {
          const store = await newStore();
          const sink = new MemoryRecordSink();
          await expect(
            handlerOver(crashingStore(store), crashingSink(sink))(mskEvent(records)),
          ).rejects.toThrow(/injected/);
          await handlerOver(store, sink)(mskEvent(records));
          expect(emittedWindows(sink)).toEqual(expected);
          expect(windowIds(sink)).toEqual(["S:0", "S:10000"]);
        },
      );

      it("crash after producing the windows, before marking them: the same windows again, same ids (the one allowed duplicate)", async () => {
        const store = await newStore();
        const sink = new MemoryRecordSink();
        await expect(
          handlerOver(storeCrashingOnce(store, "markEmitted", "before"), sink)(mskEvent(records)),
        ).rejects.toThrow(/injected/);
        await handlerOver(store, sink)(mskEvent(records));
        expect(windowIds(sink)).toEqual(["S:0", "S:10000", "S:0", "S:10000"]);
        expect(new Set(sink.values(TOPICS.windows).map((v) => JSON.stringify(v))).size).toBe(2);
        // A third delivery emits nothing, and the state is exact: the next window holds 25 s from
        // the first delivery (value 14) and 26 s (value 10), each once.
        await handlerOver(store, sink)(mskEvent(records));
        await handlerOver(store, sink)(mskEvent(at("S", [26_000, 40_000], 5)));
        expect(emittedWindows(sink).at(-1)).toEqual({
          sensor: "S",
          start: 20_000,
          end: 30_000,
          count: 2,
          min: 10,
          max: 14,
          mean: 12,
        });
        expect(windowIds(sink)).toHaveLength(5);
      });
    });

    it("two partitions processed concurrently give the same result as one after the other", async () => {
      const readings = seedScenario({ count: 2_000, sensors: 6, partitions: 2, seed: 3 });
      const byPartition = [0, 1].map((p) => toRecords(readings.filter((r) => r.partition === p)));
      const sequential = new MemoryRecordSink();
      const seqAggregate = handlerOver(await newStore(), sequential);
      for (const records of byPartition)
        for (const batch of randomBatches(records, 300)) await seqAggregate(mskEvent(batch));
      const concurrent = new MemoryRecordSink();
      const conAggregate = handlerOver(await newStore(), concurrent);
      await Promise.all(
        byPartition.map(async (records) => {
          for (const batch of randomBatches(records, 300)) await conAggregate(mskEvent(batch));
        }),
      );
      expect(emittedWindows(concurrent)).toEqual(emittedWindows(sequential));
      expect(emittedWindows(sequential)).toEqual(bruteForceWindows(readings));
    });

    it("closing by partition closes the windows of sensors absent from the batch", async () => {
      const rules = rulesWith("partition");
      const store = await newStore();
      const sink = new MemoryRecordSink();
      const aggregate = handlerOver(store, sink, rules);
      await aggregate(mskEvent([readingRecord({ sensor: "Quiet", ts: 1_000, offset: 0 })]));
      await aggregate(mskEvent([readingRecord({ sensor: "Busy", ts: 20_000, offset: 1 })]));
      expect(emittedWindows(sink)).toEqual([
        expect.objectContaining({ sensor: "Quiet", start: 0, count: 1 }),
      ]);
    });

    it("the seed's 10,000 readings from 5 sensors: every closed window exactly once, as brute force computes it", async () => {
      const readings = seedScenario({
        count: 10_000,
        sensors: 5,
        partitions: 3,
        seed: 11,
        outOfOrder: 0.05,
      });
      const sink = new MemoryRecordSink();
      const aggregate = handlerOver(await newStore(), sink);
      const records = toRecords(readings);
      const batches = randomBatches(records, 500);
      for (const batch of batches) await aggregate(mskEvent(batch));
      // A retry of a few batches on the way changes nothing either.
      for (const batch of batches.slice(0, 3)) await aggregate(mskEvent(batch));
      const emitted = emittedWindows(sink);
      expect(emitted).toEqual(bruteForceWindows(readings));
      expect(emitted.length).toBeGreaterThan(400);
    });
  });
};
