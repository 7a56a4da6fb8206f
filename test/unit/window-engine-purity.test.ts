import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DecodeOptions, decodeReading } from "../../core/decode-reading.ts";
import { partitionIdOf } from "../../core/reading.ts";
import { temperatureAggregation } from "../../core/temperature-aggregation.ts";
import { applyBatch, closeWindows, type WindowRules } from "../../core/window-engine.ts";
import {
  ClosingStrategy,
  emptyPartitionState,
  type PartitionState,
} from "../../core/window-state.ts";
import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import { randomBatches, seedScenario, toRecords } from "../support/window-fixtures.ts";

/**
 * The engine works on its own copies of the sensors a batch touches (folding and closing change
 * those in place), and shares everything else with the state it was given: these properties check
 * that no state it is given ever changes, whatever the batches, sensors and closing strategy.
 */

const decodeOptions: DecodeOptions = {
  timestampSource: "payload",
  maxEventTimeSkewMs: Number.MAX_SAFE_INTEGER,
};

const rulesWith = (closing: WindowRules<unknown, unknown>["closing"]) => ({
  spec: { sizeMs: 10_000, graceMs: 1_000 },
  closing,
  aggregation: temperatureAggregation,
});

const itemsOf = (records: readonly KafkaTriggerRecord[]) =>
  records.map((record) => ({ source: record, decoded: decodeReading(record, decodeOptions) }));

const scenario = fc.record({
  count: fc.integer({ min: 1, max: 400 }),
  sensors: fc.integer({ min: 1, max: 30 }),
  partitions: fc.integer({ min: 1, max: 3 }),
  outOfOrder: fc.double({ min: 0, max: 0.6, noNaN: true }),
  seed: fc.nat(),
  maxBatch: fc.integer({ min: 1, max: 120 }),
  closing: fc.constantFrom(ClosingStrategy.key, ClosingStrategy.partition),
});

describe("engine purity", () => {
  it("never modifies a partition state it is given, and gives the same result twice", () => {
    fc.assert(
      fc.property(scenario, ({ maxBatch, closing, ...stream }) => {
        const rules = rulesWith(closing);
        const records = toRecords(seedScenario(stream));
        const partitions = new Map<string, PartitionState<unknown>>();
        for (const batch of randomBatches(records, maxBatch, stream.seed)) {
          for (const pid of new Set(batch.map(partitionIdOf))) {
            const before = partitions.get(pid) ?? emptyPartitionState<unknown>(pid);
            const snapshot = structuredClone(before);
            const items = itemsOf(batch.filter((r) => partitionIdOf(r) === pid));
            const applied = applyBatch(rules as never, before as never, items, 5);
            expect(before).toStrictEqual(snapshot);
            const again = applyBatch(rules as never, before as never, items, 5);
            expect(again).toStrictEqual(applied);
            partitions.set(pid, applied.partition as PartitionState<unknown>);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it("closeWindows never modifies the sensors it is given", () => {
    fc.assert(
      fc.property(scenario, fc.nat(200_000), ({ maxBatch: _, closing, ...stream }, ahead) => {
        const rules = rulesWith(closing);
        const records = toRecords(seedScenario(stream));
        const pid = partitionIdOf(records[0] as KafkaTriggerRecord);
        const state = applyBatch(
          rules as never,
          emptyPartitionState(pid) as never,
          itemsOf(records.filter((r) => partitionIdOf(r) === pid)),
          5,
        ).partition;
        const snapshot = structuredClone(state);
        const closed = closeWindows(
          rules as never,
          state.sensors.values(),
          (state.streamTime ?? 0) + ahead,
        );
        expect(state).toStrictEqual(snapshot);
        for (const [id, sensor] of closed.sensors) expect(sensor).not.toBe(state.sensors.get(id));
      }),
      { numRuns: 150 },
    );
  });
});
