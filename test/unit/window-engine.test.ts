import { describe, expect, it } from "vitest";
import type { Aggregation } from "../../core/aggregation.ts";
import { type DecodeOptions, decodeReading } from "../../core/decode-reading.ts";
import { partitionIdOf } from "../../core/reading.ts";
import { temperatureAggregation } from "../../core/temperature-aggregation.ts";
import {
  applyBatch,
  type ClosedWindow,
  type LateReading,
  type WindowRules,
  windowResult,
} from "../../core/window-engine.ts";
import { windowStartFor } from "../../core/window-spec.ts";
import {
  type ClosingStrategyName,
  emptyPartitionState,
  type PartitionState,
} from "../../core/window-state.ts";
import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import { readingRecord } from "../support/trigger-events.ts";
import { bruteForce, randomBatches, seedScenario, toRecords } from "../support/window-fixtures.ts";

const decodeOptions: DecodeOptions = {
  timestampSource: "payload",
  maxEventTimeSkewMs: Number.MAX_SAFE_INTEGER,
};
const rulesFor = <S, O>(
  aggregation: Aggregation<S, O>,
  closing: ClosingStrategyName = "key",
): WindowRules<S, O> => ({
  spec: { sizeMs: 10_000, graceMs: 1_000 },
  closing,
  aggregation,
});

const itemsOf = (records: readonly KafkaTriggerRecord[]) =>
  records.map((record) => ({
    source: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
    },
    decoded: decodeReading(record, decodeOptions),
  }));

/** Runs records through the engine batch by batch, partition by partition, keeping state as a store would. */
const runBatches = <S, O>(rules: WindowRules<S, O>, batches: KafkaTriggerRecord[][]) => {
  const partitions = new Map<string, PartitionState<S>>();
  const closed: ClosedWindow<O>[] = [];
  const late: LateReading[] = [];
  for (const batch of batches) {
    for (const pid of new Set(batch.map(partitionIdOf))) {
      const records = batch.filter((r) => partitionIdOf(r) === pid);
      const applied = applyBatch(
        rules,
        partitions.get(pid) ?? emptyPartitionState<S>(pid),
        itemsOf(records),
        0,
      );
      partitions.set(pid, applied.partition);
      closed.push(...applied.closed.map((w) => windowResult(rules, w)));
      late.push(...applied.late);
    }
  }
  return { closed, late, partitions };
};

/** Readings of one sensor at the given times, offsets in order. */
const at = (times: number[], sensor = "S", partition = 0, firstOffset = 0) =>
  times.map((ts, i) =>
    readingRecord({ sensor, ts, value: i + 1, offset: firstOffset + i, partition }),
  );

const temperature = rulesFor(temperatureAggregation);

describe("window boundaries (10 s windows, 1 s grace)", () => {
  it.each([
    ["end + grace - 1 keeps [0, 10000) open", 10_999, 0],
    ["end + grace closes [0, 10000)", 11_000, 1],
  ])("%s", (_name, closer, expectedClosed) => {
    const { closed } = runBatches(temperature, [at([5_000, closer])]);
    expect(closed.filter((w) => w.start === 0)).toHaveLength(expectedClosed);
  });

  it.each([
    ["at start", 0, 0],
    ["at end - 1", 9_999, 0],
    ["at end", 10_000, 10_000],
  ])("a reading %s (ts %i) falls in the window starting at %i", (_name, ts, start) => {
    expect(windowStartFor(ts, temperature.spec)).toBe(start);
  });

  it("counts an out-of-order reading that arrives within grace", () => {
    const { closed, late } = runBatches(temperature, [at([9_000, 10_500, 9_500, 30_000])]);
    expect(late).toEqual([]);
    expect(closed[0]).toMatchObject({ start: 0, result: { count: 2, min: 1, max: 3, mean: 2 } });
  });

  it("does not count a reading whose window stream time has closed, and says how late it was", () => {
    const { closed, late } = runBatches(temperature, [at([9_000, 12_500, 9_500, 30_000])]);
    expect(closed[0]).toMatchObject({ start: 0, result: { count: 1 } });
    expect(late).toEqual([
      expect.objectContaining({
        windowStart: 0,
        windowEnd: 10_000,
        windowClosedAt: 11_000,
        streamTime: 12_500,
        lateByMs: 1_500,
      }),
    ]);
  });

  it("emits windows in window order, with mean = sum / count", () => {
    const { closed } = runBatches(temperature, [at([1_000, 2_000, 11_000, 15_000, 40_000])]);
    expect(closed.map((w) => [w.start, w.end, w.result])).toEqual([
      [0, 10_000, { count: 2, min: 1, max: 2, mean: 1.5 }],
      [10_000, 20_000, { count: 2, min: 3, max: 4, mean: 3.5 }],
    ]);
  });

  it("keeps the mean exact where a running mean drifts", () => {
    const values = Array.from({ length: 1000 }, () => 0.1);
    const records = values.map((value, i) =>
      readingRecord({ sensor: "S", ts: i, value, offset: i }),
    );
    const { closed } = runBatches(temperature, [
      [...records, readingRecord({ sensor: "S", ts: 20_000, offset: 1000 })],
    ]);
    expect(closed[0]?.result.mean).toBe(values.reduce((a, b) => a + b, 0) / 1000);
  });
});

describe("closing strategy", () => {
  // Sensor A reads at 1 s; sensor B, in the same partition, then jumps to 15 s; then A sends 2 s.
  const records = [
    readingRecord({ sensor: "A", ts: 1_000, offset: 0 }),
    readingRecord({ sensor: "B", ts: 15_000, offset: 1 }),
    readingRecord({ sensor: "A", ts: 2_000, offset: 2 }),
  ];

  it("key (default): only a sensor's own readings close its windows", () => {
    const { closed, late } = runBatches(rulesFor(temperatureAggregation, "key"), [records]);
    expect(closed).toEqual([]);
    expect(late).toEqual([]);
  });

  it("partition: any sensor's reading advances stream time for the whole partition", () => {
    const { closed, late } = runBatches(rulesFor(temperatureAggregation, "partition"), [records]);
    expect(closed).toEqual([
      expect.objectContaining({
        sensor: "A",
        start: 0,
        result: expect.objectContaining({ count: 1 }),
      }),
    ]);
    expect(late).toEqual([expect.objectContaining({ windowStart: 0, lateByMs: 4_000 })]);
  });

  it("partition: stream time of one partition does not close windows of another", () => {
    const { closed } = runBatches(rulesFor(temperatureAggregation, "partition"), [
      [
        readingRecord({ sensor: "A", ts: 1_000, offset: 0, partition: 0 }),
        readingRecord({ sensor: "B", ts: 50_000, offset: 0, partition: 1 }),
      ],
    ]);
    expect(closed).toEqual([]);
  });
});

describe("replay guard", () => {
  it("skips records at or below an offset already applied", () => {
    const rules = temperature;
    const records = at([1_000, 2_000, 3_000]);
    const once = runBatches(rules, [records, at([12_000], "S", 0, 3)]);
    const twice = runBatches(rules, [records, records, records.slice(1), at([12_000], "S", 0, 3)]);
    expect(twice.closed).toEqual(once.closed);
    expect(once.closed[0]?.result.count).toBe(3);
  });
});

describe("batching never changes the result", () => {
  const readings = seedScenario({ count: 3_000, sensors: 5, partitions: 3, outOfOrder: 0.2 });
  const records = toRecords(readings);

  describe.each(["key", "partition"] as const)("closing by %s", (closing) => {
    const expected = bruteForce(readings, { closing });
    it.each([1, 7, 100, 1_000])(
      "random batches of up to %i records give the brute-force windows and late readings",
      (maxSize) => {
        const { closed, late } = runBatches(
          rulesFor(temperatureAggregation, closing),
          randomBatches(records, maxSize),
        );
        const emitted = closed
          .map((w) => ({ sensor: w.sensor, start: w.start, end: w.end, ...w.result }))
          .sort((a, b) => a.sensor.localeCompare(b.sensor) || a.start - b.start);
        expect(emitted).toEqual(expected.windows);
        const coordinates = (l: { partition: number; offset: number }) =>
          `${l.partition}@${l.offset}`;
        expect(late.map((l) => coordinates(l.reading.source)).sort()).toEqual(
          expected.late.map(coordinates).sort(),
        );
        expect(expected.late.length).toBeGreaterThan(0);
      },
    );
  });

  it("one record per batch and one batch give the same late readings", () => {
    const single = runBatches(
      temperature,
      records.map((r) => [r]),
    );
    const whole = runBatches(temperature, [records]);
    const byOffset = (late: LateReading[]) =>
      [...late].sort(
        (a, b) =>
          a.reading.source.partition - b.reading.source.partition ||
          a.reading.source.offset - b.reading.source.offset,
      );
    expect(byOffset(single.late)).toEqual(byOffset(whole.late));
    expect(single.late.length).toBeGreaterThan(0);
  });
});

describe("the aggregation is generic", () => {
  /** A second aggregation, defined here and nowhere in the engine: the last value and its time. */
  const lastValue: Aggregation<{ value: number; at: number }, { value: number; at: number }> = {
    outputField: "last",
    init: ({ value, eventTime }) => ({ value, at: eventTime }),
    add: (state, { value, eventTime }) =>
      eventTime >= state.at ? { value, at: eventTime } : state,
    result: (state) => state,
  };

  it("runs any definition without touching the engine", () => {
    const { closed } = runBatches(rulesFor(lastValue), [at([1_000, 3_000, 2_000, 20_000])]);
    expect(closed).toEqual([
      {
        sensor: "S",
        start: 0,
        end: 10_000,
        result: { value: 2, at: 3_000 },
        closedBy: "stream-time",
      },
    ]);
  });
});

describe("engine purity", () => {
  it("does not modify the states it is given", () => {
    const { partitions } = runBatches(temperature, [at([1_000])]);
    const before = partitions.get("raw-temperature-0") as PartitionState<unknown>;
    const snapshot = structuredClone(before);
    applyBatch(temperature, before as never, itemsOf(at([2_000, 30_000], "S", 0, 1)), 0);
    expect(before).toEqual(snapshot);
  });
});
