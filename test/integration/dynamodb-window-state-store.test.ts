import { TransactionConflictException } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { emptySensorState } from "../../core/window-state.ts";
import { MemoryRecordSink } from "../../functions/record-sink.ts";
import { DynamoWindowStateStore } from "../../state/dynamodb-window-state-store.ts";
import { StateConflictError } from "../../state/errors.ts";
import {
  aggregateWith,
  describeAggregateHandler,
  emittedWindows,
  rulesWith,
} from "../support/aggregate-handler-suite.ts";
import {
  countingDynamoClient,
  dynamoStoreFor,
  freshStateTable,
} from "../support/dynamodb-state.ts";
import { describeIdleClosing } from "../support/idle-closing-suite.ts";
import { mskEvent, readingRecord } from "../support/trigger-events.ts";
import { seedScenario, toRecords } from "../support/window-fixtures.ts";

describeAggregateHandler("DynamoDB Local", (rules) => dynamoStoreFor(rules));

describe("DynamoDB store costs", () => {
  it("a batch of 10,000 readings from 5 sensors costs one read, one state write and one emitted-mark write", async () => {
    const counter = countingDynamoClient();
    const store = await dynamoStoreFor(rulesWith(), counter.client);
    const readings = seedScenario({ count: 10_000, sensors: 5, seed: 5 }).map((r, i) => ({
      ...r,
      ts: Date.UTC(2024, 4, 1) + i * 10,
    }));
    const aggregate = aggregateWith(store, new MemoryRecordSink());
    counter.reset();
    const summary = await aggregate(mskEvent(toRecords(readings)));
    expect(summary.windowsClosed).toBeGreaterThan(40);
    expect(Object.fromEntries(counter.counts), JSON.stringify(summary)).toEqual({
      BatchGetItemCommand: 1,
      TransactWriteItemsCommand: 2,
    });
  });

  it("100,000 distinct sensors in one partition, in batches of 10,000: correct windows, requests per 100 sensors", {
    timeout: 600_000,
  }, async () => {
    const counter = countingDynamoClient();
    const store = await dynamoStoreFor(rulesWith(), counter.client);
    const sink = new MemoryRecordSink();
    const aggregate = aggregateWith(store, sink);
    const sensors = 100_000;
    const perBatch = 5_000;
    // Each batch: 5,000 new sensors read once in [0, 10 s), then once at 20 s, which closes that
    // window: 10,000 records, 5,000 sensors written once each.
    const records = Array.from({ length: sensors / perBatch }, (_, b) =>
      [1_000, 20_000].flatMap((ts, round) =>
        Array.from({ length: perBatch }, (_, i) =>
          readingRecord({
            sensor: `sensor-${b * perBatch + i}`,
            ts,
            value: i % 100,
            offset: b * 2 * perBatch + round * perBatch + i,
          }),
        ),
      ),
    ).flat();
    const requestsPerBatch: number[] = [];
    for (let i = 0; i < records.length; i += 10_000) {
      counter.reset();
      await aggregate(mskEvent(records.slice(i, i + 10_000)));
      requestsPerBatch.push(counter.total());
    }
    const windows = emittedWindows(sink);
    expect(windows).toHaveLength(sensors);
    expect(windows.every((w) => w.start === 0 && w.count === 1)).toBe(true);
    // 5,000 sensors and 1 partition per batch: 51 BatchGetItem, 51 TransactWriteItems for the new
    // state and 50 to mark the closed windows emitted: per 100 items, never per record.
    expect(Math.max(...requestsPerBatch)).toBe(152);
  });
});

describe("DynamoDB store expiry", () => {
  it("treats an item past its TTL as absent even before DynamoDB deletes it, and can write over it", async () => {
    const client = countingDynamoClient().client;
    const table = await freshStateTable(client);
    let now = Date.UTC(2024, 4, 1);
    const store = new DynamoWindowStateStore<unknown>({
      client,
      tableName: table,
      retentionMs: 60_000,
      now: () => now,
    });
    const sensor = { ...emptySensorState("S", "raw-temperature-0"), streamTime: 5 };
    await store.save({ sensors: [{ value: sensor, expectedVersion: 0 }], partitions: [] });
    expect((await store.load({ partitionIds: [], sensorIds: ["S"] })).sensors.get("S")).toEqual({
      value: sensor,
      version: 1,
    });
    now += 60_000;
    const expired = (await store.load({ partitionIds: [], sensorIds: ["S"] })).sensors.get("S");
    expect(expired).toEqual({ value: undefined, version: 1 });
    await store.save({
      sensors: [{ value: { ...sensor, streamTime: 9 }, expectedVersion: 1 }],
      partitions: [],
    });
    expect(
      (await store.load({ partitionIds: [], sensorIds: ["S"] })).sensors.get("S")?.value
        ?.streamTime,
    ).toBe(9);
  });
});

describe("DynamoDB store errors", () => {
  it("a TransactionConflictException (never raised by DynamoDB Local) fails the batch as a retryable conflict", async () => {
    const counter = countingDynamoClient();
    const store = await dynamoStoreFor(rulesWith(), counter.client);
    let inject = true;
    counter.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (inject && context.commandName === "TransactWriteItemsCommand") {
          inject = false;
          throw new TransactionConflictException({
            message: "Transaction is ongoing for the item",
            $metadata: {},
          });
        }
        return next(args);
      },
      { step: "initialize", name: "injectConflict" },
    );
    const sink = new MemoryRecordSink();
    const aggregate = aggregateWith(store, sink);
    const event = mskEvent(
      [1_000, 2_000, 12_000].map((ts, offset) => readingRecord({ sensor: "S", ts, offset })),
    );
    const failure = await aggregate(event).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StateConflictError);
    expect((failure as StateConflictError).retryable).toBe(true);
    await aggregate(event);
    // Closing is stored before anything is emitted, so the failed attempt emitted nothing.
    expect(emittedWindows(sink).map((w) => [w.start, w.count])).toEqual([[0, 2]]);
  });
});

describeIdleClosing("DynamoDB Local", (rules, idleTimeoutMs) =>
  dynamoStoreFor(rules, countingDynamoClient().client, idleTimeoutMs),
);
