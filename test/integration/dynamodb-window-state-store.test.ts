import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { MemoryRecordSink } from "../../functions/testing/memory-record-sink.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { StateTableDesign } from "../../state/dynamodb-state-table.ts";
import { DynamoWindowStateStore } from "../../state/dynamodb-window-state-store.ts";
import {
  aggregateWith,
  describeAggregateHandler,
  emittedWindows,
  rulesWith,
} from "../support/aggregate-handler-suite.ts";
import {
  countingDynamoClient,
  dynamoStoreFor,
  faultInjectingDynamoClient,
  freshStateTable,
} from "../support/dynamodb-state.ts";
import { describeIdleClosing } from "../support/idle-closing-suite.ts";
import { mskEvent, readingRecord } from "../support/trigger-events.ts";
import { seedScenario, toRecords } from "../support/window-fixtures.ts";

describeAggregateHandler("DynamoDB Local", () => dynamoStoreFor());

describeAggregateHandler(
  "DynamoDB Local, 20 % of requests throttled before they are sent and 5 % of replies lost",
  () => dynamoStoreFor(faultInjectingDynamoClient({ failBeforeSend: 0.2, loseReply: 0.05 }).client),
  { retryRetryable: true },
);

describeIdleClosing("DynamoDB Local", () => dynamoStoreFor());

describe("DynamoDB store costs", () => {
  it("a batch of 10,000 readings from 5 sensors: one head read, one segment write, one commit, one mark", async () => {
    const counter = countingDynamoClient();
    const store = await dynamoStoreFor(counter.client);
    const readings = seedScenario({ count: 10_000, sensors: 5, seed: 5 }).map((r, i) => ({
      ...r,
      ts: Date.UTC(2024, 4, 1) + i * 10,
    }));
    const aggregate = aggregateWith(store, new MemoryRecordSink());
    counter.reset();
    const summary = await aggregate(mskEvent(toRecords(readings)));
    expect(summary.windowsClosed).toBeGreaterThan(40);
    expect(Object.fromEntries(counter.counts), JSON.stringify(summary)).toEqual({
      GetItemCommand: 1,
      BatchWriteItemCommand: 1,
      UpdateItemCommand: 2,
    });
  });

  it("100,000 distinct sensors in one partition, in batches of 10,000: correct windows, a few requests per batch whatever the sensors", {
    timeout: 600_000,
  }, async () => {
    const counter = countingDynamoClient();
    const store = await dynamoStoreFor(counter.client);
    const sink = new MemoryRecordSink();
    const aggregate = aggregateWith(store, sink, undefined, { cache: new Map() });
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
    // A warm sandbox: one segment write (one request up to 25 parts of 350 KB), the commit and
    // the mark; the first batch also reads the (absent) head. Never per sensor.
    expect(Math.max(...requestsPerBatch), JSON.stringify(requestsPerBatch)).toBeLessThanOrEqual(4);
    // A cold sandbox reads the whole partition back: 100,000 sensors in a few requests.
    counter.reset();
    const cold = await store.load("raw-temperature-0");
    expect(cold.state.sensors.size).toBe(sensors);
    expect(counter.total()).toBeLessThanOrEqual(3);
  });
});

describe("DynamoDB store expiry", () => {
  it("treats a head past its TTL as absent even before DynamoDB deletes it, and can commit over it", async () => {
    const client = countingDynamoClient().client;
    const tableName = await freshStateTable(client);
    let now = Date.UTC(2024, 4, 1);
    const store = new DynamoWindowStateStore<number>({
      client,
      tableName,
      retentionMs: 60_000,
      now: () => now,
    });
    const sensor = {
      sensor: "S",
      streamTime: 5,
      windows: [],
      closedThrough: null,
      lastReadingAt: 0,
    };
    const state = {
      partitionId: "t-0",
      streamTime: 5,
      appliedOffset: 3,
      sensors: new Map([["S", sensor]]),
    };
    await store.commit("t-0", {
      expectedVersion: 0,
      state,
      changed: new Set(["S"]),
      removed: [],
      idleAt: null,
    });
    expect((await store.load("t-0")).state).toEqual(state);
    now += 60_000;
    const expired = await store.load("t-0");
    expect(expired).toMatchObject({ version: 1, state: { appliedOffset: -1 } });
    expect(expired.state.sensors.size).toBe(0);
    const next = { ...state, appliedOffset: 9 };
    await store.commit("t-0", {
      expectedVersion: 1,
      state: next,
      changed: new Set(["S"]),
      removed: [],
      idleAt: null,
    });
    expect((await store.load("t-0")).state.appliedOffset).toBe(9);
  });
});

describe("DynamoDB store expiry: segments outlive the head that names them", () => {
  it("a quiet partition's head never names a segment DynamoDB may already have deleted", async () => {
    const client = countingDynamoClient().client;
    const tableName = await freshStateTable(client);
    const retentionMs = 60_000;
    let now = Date.UTC(2024, 4, 1);
    const store = new DynamoWindowStateStore<number>({
      client,
      tableName,
      retentionMs,
      now: () => now,
    });
    // Enough sensors, with scattered values, for the state to pass the small-state threshold: the
    // second commit then writes a delta on top of the first commit's full segment.
    const sensorAt = (i: number, value: number) => ({
      sensor: `sensor-${i}`,
      streamTime: 1_000 + i,
      windows: [{ start: 0, state: value }],
      closedThrough: null,
      lastReadingAt: now,
    });
    const sensors = new Map(
      Array.from({ length: 500 }, (_, i) => [`sensor-${i}`, sensorAt(i, (i * 7919) % 1009)]),
    );
    const state = { partitionId: "t-0", streamTime: 1_500, appliedOffset: 499, sensors };
    const commit = (version: number, changed: string[]) =>
      store.commit("t-0", {
        expectedVersion: version,
        state,
        changed: new Set(changed),
        removed: [],
        idleAt: null,
      });
    await commit(0, [...sensors.keys()]);
    now += retentionMs * 0.4; // the last commit before the partition goes quiet, within half a retention
    sensors.set("sensor-0", sensorAt(0, 1));
    await commit(1, ["sensor-0"]);
    const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
    const ttlOf = (prefix: string) =>
      Items.filter((item) => item[StateTableDesign.partitionKey]?.S?.startsWith(prefix)).map(
        (item) => Number(item[StateTableDesign.ttlAttribute]?.N),
      );
    const [headExpiry] = ttlOf(StateTableDesign.headKeyPrefix);
    const segmentExpiries = ttlOf(StateTableDesign.segmentKeyPrefix);
    expect(segmentExpiries.length).toBeGreaterThanOrEqual(2); // the full segment and the delta
    expect(Math.min(...segmentExpiries)).toBeGreaterThanOrEqual(headExpiry as number);
  });
});

describe("DynamoDB store commits", () => {
  it("a commit whose reply was lost fails the invocation; the retry finds it committed and emits once", async () => {
    const counter = countingDynamoClient();
    const client = counter.client;
    let armed = true;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (armed && context.commandName === "UpdateItemCommand") {
          armed = false;
          throw Object.assign(new Error("socket hang up after the write (injected)"), {
            name: "TimeoutError",
            $retryable: {},
          });
        }
        return result;
      },
      { step: "initialize", name: "loseFirstCommitReply" },
    );
    const store = await dynamoStoreFor(client);
    const sink = new MemoryRecordSink();
    const event = mskEvent(
      [1_000, 2_000, 12_000].map((ts, offset) => readingRecord({ sensor: "S", ts, offset })),
    );
    // The first commit lands but its reply is lost: the invocation fails (retryable), and its
    // retry finds the state committed and the outputs in the outbox: emitted once.
    const failure = await aggregateWith(store, sink)(event).catch((error: unknown) => error);
    expect((failure as { retryable?: boolean }).retryable).toBe(true);
    await aggregateWith(store, sink)(event);
    expect(emittedWindows(sink).map((w) => [w.start, w.count])).toEqual([[0, 2]]);
  });

  it("a throttle on the mark outlasting its usual attempts, within the invocation's time, repeats nothing", async () => {
    const counter = countingDynamoClient();
    const client = counter.client;
    let updates = 0;
    let throttled = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        // Every UpdateItem after the first (the commit) is the mark: throttled before it is sent.
        if (context.commandName === "UpdateItemCommand" && ++updates > 1 && throttled < 14) {
          throttled++;
          throw Object.assign(
            new Error("Rate of requests exceeds the allowed throughput (injected)"),
            {
              name: "ThrottlingException",
              $retryable: { throttling: true },
            },
          );
        }
        return next(args);
      },
      { step: "initialize", name: "throttleTheMark" },
    );
    const store = await dynamoStoreFor(client);
    const sink = new MemoryRecordSink();
    const event = mskEvent(
      [1_000, 2_000, 12_000].map((ts, offset) => readingRecord({ sensor: "S", ts, offset })),
    );
    await aggregateWith(store, sink, rulesWith(), { deadline: Date.now() + 30_000 })(event);
    expect(throttled).toBe(14);
    // Replayed (the trigger's at-least-once), the batch finds everything applied and marked.
    await aggregateWith(store, sink)(event);
    expect(emittedWindows(sink).map((w) => [w.start, w.count])).toEqual([[0, 2]]);
  }, 30_000);

  it("a commit the SDK sent twice (the first reply lost) recognises its own write, not a conflict", async () => {
    const client = new DynamoDBClient({
      endpoint: readStackEndpoints().dynamodbEndpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 2,
    });
    let lost = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (lost === 0 && context.commandName === "UpdateItemCommand") {
          lost++;
          throw Object.assign(new Error("reply lost after the write (injected)"), {
            name: "TimeoutError",
          });
        }
        return result;
      },
      // Inside the SDK's retry middleware (finalizeRequest, high priority): the SDK resends.
      { step: "finalizeRequest", priority: "low", name: "loseFirstReply" },
    );
    const store = await dynamoStoreFor(client);
    const sink = new MemoryRecordSink();
    const event = mskEvent(
      [1_000, 2_000, 12_000].map((ts, offset) => readingRecord({ sensor: "S", ts, offset })),
    );
    const summary = await aggregateWith(store, sink)(event);
    expect(lost).toBe(1);
    expect(summary.windowsClosed).toBe(1);
    expect(emittedWindows(sink).map((w) => [w.start, w.count])).toEqual([[0, 2]]);
    expect((await store.load("raw-temperature-0")).version).toBe(1);
  });
});
