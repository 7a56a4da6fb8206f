import type { KafkaMessage } from "kafkajs";
import { describe, expect, it } from "vitest";
import {
  buildTriggerEvent,
  MAX_EVENT_BYTES,
  toPolledRecord,
  toTriggerRecord,
} from "../../functions/kafka-trigger-event-builder.ts";
import {
  type BatchingRules,
  type CutRules,
  FetchedRecords,
} from "../../harness/emulator/fetched-records.ts";

const TOPIC = "readings";

const fetched = (from: number, count: number, valueBytes = 10): KafkaMessage[] =>
  Array.from({ length: count }, (_, i) => ({
    key: null,
    value: Buffer.alloc(valueBytes, "x"),
    offset: String(from + i),
    timestamp: "1714564800000",
    attributes: 0,
    headers: {},
  }));

const rules = (overrides: Partial<CutRules> = {}): CutRules => ({
  batchSize: 100,
  windowMs: 0,
  onePartitionPerEvent: false,
  now: Date.now(),
  toRecord: (partition, message) => toPolledRecord(TOPIC, partition, message),
  ...overrides,
});

const offsetsByPartition = (records: { partition: number; offset: number }[]) => {
  const out: Record<number, number[]> = {};
  for (const r of records) {
    const list = out[r.partition] ?? [];
    list.push(r.offset);
    out[r.partition] = list;
  }
  return out;
};

describe("a poller's fetched records", () => {
  it("cut into one batch from every partition that has records, each in offset order", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(0, fetched(0, 3));
    held.add(1, fetched(7, 2));
    const batch = held.cut(rules());
    expect(offsetsByPartition(batch?.records ?? [])).toEqual({ 0: [0, 1, 2], 1: [7, 8] });
    expect(batch?.commitOffsets).toEqual(
      new Map([
        [0, 3],
        [1, 9],
      ]),
    );
  });

  it("give nothing from a partition in flight until its batch is released", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(0, fetched(0, 2));
    held.cut(rules());
    held.add(0, fetched(2, 2));
    held.add(1, fetched(0, 1));
    expect(offsetsByPartition(held.cut(rules())?.records ?? [])).toEqual({ 1: [0] });
    expect(held.cut(rules())).toBeUndefined();
    held.release([0]);
    expect(offsetsByPartition(held.cut(rules())?.records ?? [])).toEqual({ 0: [2, 3] });
  });

  it("stop at BatchSize, and start the next batch after the previous one's first partition", () => {
    const held = new FetchedRecords(TOPIC);
    for (const p of [0, 1, 2]) held.add(p, fetched(0, 4));
    const first = held.cut(rules({ batchSize: 6 }));
    expect(offsetsByPartition(first?.records ?? [])).toEqual({ 0: [0, 1, 2, 3], 1: [0, 1] });
    held.release([0, 1]);
    const second = held.cut(rules({ batchSize: 6 }));
    expect(offsetsByPartition(second?.records ?? [])).toEqual({ 1: [2, 3], 2: [0, 1, 2, 3] });
  });

  it("with one partition per event, cut each batch from a single partition", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(0, fetched(0, 2));
    held.add(1, fetched(0, 2));
    expect(
      Object.keys(
        offsetsByPartition(held.cut(rules({ onePartitionPerEvent: true }))?.records ?? []),
      ),
    ).toEqual(["0"]);
    expect(
      Object.keys(
        offsetsByPartition(held.cut(rules({ onePartitionPerEvent: true }))?.records ?? []),
      ),
    ).toEqual(["1"]);
  });

  describe("with one partition per event, cut only a partition due by itself", () => {
    const onePerEvent = (now: number) =>
      rules({ onePartitionPerEvent: true, batchSize: 10, windowMs: 3_000, now });
    const cutPartitions = (held: FetchedRecords, now: number) =>
      Object.keys(offsetsByPartition(held.cut(onePerEvent(now))?.records ?? []));

    it("a full partition goes first, the partial one before it waits for its window", () => {
      const held = new FetchedRecords(TOPIC);
      held.add(0, fetched(0, 4), 1_000);
      held.add(1, fetched(0, 10), 2_000);
      expect(cutPartitions(held, 2_000)).toEqual(["1"]);
      expect(held.cut(onePerEvent(3_999))).toBeUndefined();
      expect(cutPartitions(held, 4_000)).toEqual(["0"]);
    });

    it("the partition whose window ended goes, not the first one whose window runs on", () => {
      const held = new FetchedRecords(TOPIC);
      held.add(0, fetched(0, 4), 2_000);
      held.add(1, fetched(0, 4), 1_000);
      expect(cutPartitions(held, 4_000)).toEqual(["1"]);
      expect(cutPartitions(held, 5_000)).toEqual(["0"]);
    });
  });

  it("let filtered-out records ride along: not delivered, but committed with the batch", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(0, fetched(0, 4));
    held.add(1, fetched(0, 2));
    const batch = held.cut(
      rules({
        toRecord: (p, m) => (p === 1 || m.offset === "3" ? undefined : toPolledRecord(TOPIC, p, m)),
      }),
    );
    expect(offsetsByPartition(batch?.records ?? [])).toEqual({ 0: [0, 1, 2] });
    expect(batch?.commitOffsets).toEqual(
      new Map([
        [0, 4],
        [1, 2],
      ]),
    );
  });

  it("close a batch before its event would pass 6 MB, counting every partition's records", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(0, fetched(0, 2, 1_500_000));
    held.add(1, fetched(0, 2, 1_500_000));
    const batch = held.cut(rules());
    // 4 values of 2 MB once in base64: three fit in 6 MB, the fourth waits.
    expect(batch?.records).toHaveLength(2 + 1);
    const event = buildTriggerEvent(
      { flavour: "msk", bootstrapServers: ["localhost:9092"], clusterArn: "arn" },
      (batch?.records ?? []).map((r) => toTriggerRecord(TOPIC, r.partition, r.message)),
    );
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(MAX_EVENT_BYTES);
  });

  it("after a rebalance, drop what was fetched but keep in-flight batches from being fetched twice", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(0, fetched(0, 3));
    held.cut(rules({ batchSize: 2 })); // offsets 0, 1 in flight; 2 fetched
    held.add(1, fetched(0, 2));
    expect(held.reassigned(new Set([0]))).toEqual([1]);
    // The consumer fetches partition 0 again from its last commit (nothing committed yet).
    expect(held.add(0, fetched(0, 4))).toBe(2);
    held.release([0]);
    expect(offsetsByPartition(held.cut(rules())?.records ?? [])).toEqual({ 0: [2, 3] });
  });

  it("after a rebalance, never take again what was delivered, even before its commit landed", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(0, fetched(0, 3));
    held.cut(rules()); // offsets 0..2 delivered
    held.release([0]); // done; say its commit was refused
    expect(held.reassigned(new Set([0]))).toEqual([]);
    // The consumer fetches partition 0 again from its last commit: nothing committed yet.
    expect(held.add(0, fetched(0, 5))).toBe(2);
    expect(offsetsByPartition(held.cut(rules())?.records ?? [])).toEqual({ 0: [3, 4] });
  });

  it("after a rebalance, a partition assigned here again starts afresh", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(1, fetched(0, 3));
    held.cut(rules());
    held.release([1]);
    expect(held.reassigned(new Set([0]))).toEqual([1]);
    held.reassigned(new Set([0, 1]));
    expect(held.add(1, fetched(0, 3))).toBe(3);
  });
});

describe("when a batch is due", () => {
  const window = (overrides: Partial<BatchingRules> = {}): BatchingRules => ({
    batchSize: 10,
    windowMs: 3_000,
    onePartitionPerEvent: false,
    ...overrides,
  });

  it("never, while no free partition has records", () => {
    const held = new FetchedRecords(TOPIC);
    expect(held.dueAt(window())).toBeUndefined();
    held.add(0, fetched(0, 3), 1_000);
    held.cut(rules());
    expect(held.dueAt(window())).toBeUndefined(); // partition 0 is in flight
  });

  it("at the end of the batching window of the oldest record, when the batch is not full", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(1, fetched(0, 2), 5_000);
    held.add(0, fetched(0, 2), 4_000);
    held.add(0, fetched(2, 2), 6_000);
    expect(held.dueAt(window())).toBe(4_000 + 3_000);
  });

  it.each([
    ["the free partitions hold BatchSize records together", window(), [6, 4]],
    [
      "one partition holds BatchSize records, one partition per event",
      window({ onePartitionPerEvent: true }),
      [10, 0],
    ],
  ])("at once when %s", (_, rules, counts) => {
    const held = new FetchedRecords(TOPIC);
    counts.forEach((count, partition) => {
      if (count > 0) held.add(partition, fetched(0, count), 1_000);
    });
    expect(held.dueAt(rules)).toBe(Number.NEGATIVE_INFINITY);
  });

  it("not at once with one partition per event when only the partitions together hold BatchSize", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(0, fetched(0, 6), 1_000);
    held.add(1, fetched(0, 4), 1_000);
    expect(held.dueAt(window({ onePartitionPerEvent: true }))).toBe(4_000);
  });

  it("at once when the records would fill a 6 MB event", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(0, fetched(0, 2, 2_500_000), 1_000);
    expect(held.dueAt(window())).toBe(Number.NEGATIVE_INFINITY);
  });

  it("a window's time restarts with the first record fetched after the partition was emptied", () => {
    const held = new FetchedRecords(TOPIC);
    held.add(0, fetched(0, 2), 1_000);
    held.cut(rules());
    held.release([0]);
    held.add(0, fetched(2, 1), 9_000);
    expect(held.dueAt(window())).toBe(12_000);
  });
});
