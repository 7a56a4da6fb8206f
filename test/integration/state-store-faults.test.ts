import { describe, expect, it } from "vitest";
import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import { WINDOW_ID_HEADER } from "../../functions/output-records.ts";
import { MemoryRecordSink } from "../../functions/testing/memory-record-sink.ts";
import {
  aggregateWith,
  emittedWindows,
  retryingInvocations,
  TOPICS,
} from "../support/aggregate-handler-suite.ts";
import { dynamoStoreFor, faultInjectingDynamoClient } from "../support/dynamodb-state.ts";
import { mskEvent, rawRecord } from "../support/trigger-events.ts";
import { bruteForce, mulberry32, seedScenario, toRecords } from "../support/window-fixtures.ts";

/**
 * The store under the failures DynamoDB really produces, with events mixing partitions as Lambda
 * may deliver them (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-configure.html): a
 * seeded share of requests throttled before they are sent, a share applied but their reply lost,
 * each failed invocation retried as the trigger does. Nothing may be lost, counted twice or
 * emitted twice.
 */
describe("DynamoDB Local store under injected failures, events mixing 6 partitions", () => {
  const readings = seedScenario({
    count: 12_000,
    sensors: 300,
    partitions: 6,
    seed: 21,
    outOfOrder: 0.1,
  });
  /** About 2 % of the records are not readings: same coordinates, garbage value. */
  const random = mulberry32(99);
  const bad = new Set<number>();
  const records: KafkaTriggerRecord[] = toRecords(readings).map((record, i) => {
    if (random() >= 0.02) return record;
    bad.add(i);
    return { ...rawRecord(record.offset, "{ not json"), partition: record.partition };
  });
  const expected = bruteForce(readings.filter((_, i) => !bad.has(i)));

  it.each([
    ["no faults", 0, 0],
    ["30 % throttled before sending", 0.3, 0],
    ["30 % throttled before sending, 5 % of replies lost", 0.3, 0.05],
  ])(
    "%s: windows equal brute force, each output exactly once",
    { timeout: 300_000 },
    async (_name, failBeforeSend, loseReply) => {
      const faulty = faultInjectingDynamoClient({ failBeforeSend, loseReply, seed: 3 });
      const store = await dynamoStoreFor(faulty.client);
      const sink = new MemoryRecordSink();
      // A warm sandbox's cache, as deployed: a failed invocation drops what it may have made stale.
      const aggregate = retryingInvocations(
        aggregateWith(store, sink, undefined, { cache: new Map() }),
      );
      for (let i = 0; i < records.length; i += 2_000) {
        const event = mskEvent(records.slice(i, i + 2_000));
        expect(Object.keys(event.records)).toHaveLength(6);
        await aggregate(event);
      }
      if (failBeforeSend > 0) expect(faulty.injected.beforeSend).toBeGreaterThan(20);

      expect(emittedWindows(sink)).toEqual(expected.windows);
      const windowIds = sink.records(TOPICS.windows).map((r) => r.headers?.[WINDOW_ID_HEADER]);
      expect(new Set(windowIds).size).toBe(windowIds.length);

      const late = sink.values<{ source: { partition: number; offset: number } }>(TOPICS.late);
      expect(late).toHaveLength(expected.late.length);
      expect(new Set(late.map((l) => `${l.source.partition}:${l.source.offset}`)).size).toBe(
        late.length,
      );

      const deadLetters = sink.values<{ source: { partition: number; offset: number } }>(
        TOPICS.deadLetters,
      );
      expect(deadLetters).toHaveLength(bad.size);
      expect(new Set(deadLetters.map((d) => `${d.source.partition}:${d.source.offset}`)).size).toBe(
        bad.size,
      );
    },
  );
});
