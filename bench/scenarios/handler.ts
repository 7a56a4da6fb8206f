import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { sensorIndexesFor } from "../../core/sensor-indexes.ts";
import type { TemperatureState } from "../../core/temperature-aggregation.ts";
import { createAggregateHandler } from "../../functions/aggregate-temperatures/aggregate-handler.ts";
import { readAggregateConfig } from "../../functions/aggregate-temperatures/config.ts";
import {
  decodeOptionsFrom,
  outputTopicsFrom,
  temperatureRules,
} from "../../functions/aggregate-temperatures/dependencies.ts";
import type { KafkaTriggerEvent } from "../../functions/kafka-trigger-event.ts";
import { MemoryRecordSink } from "../../functions/record-sink.ts";
import { silentLogger } from "../../lib/logger.ts";
import { ensureStateTable } from "../../state/dynamodb-state-table.ts";
import { DynamoWindowStateStore } from "../../state/dynamodb-window-state-store.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import type { WindowStateStore } from "../../state/window-state-store.ts";
import { countingDynamoClient } from "../../test/support/dynamodb-state.ts";
import { decodeFloor, ReadingStream, recordCount } from "../events.ts";
import {
  compared,
  count,
  perSecond,
  progress,
  type Repetitions,
  type ResultRow,
  repeatPaired,
  summarize,
} from "../measure.ts";

export const StoreKind = { memory: "memory", dynamodb: "dynamodb" } as const;
export type StoreKindName = (typeof StoreKind)[keyof typeof StoreKind];

export interface HandlerScenarioOptions {
  quick: boolean;
  store: StoreKindName;
  /** Batch sizes to run (default 100, 1 000 and 10 000). */
  sizes: readonly number[];
  /**
   * IDLE_TIMEOUT_MS for the stores' indexes (undefined = off, the default): with it on, every
   * sensor write also keeps the idle sweep's index, which is what idle closing costs the handler.
   */
  idleTimeoutMs?: number | undefined;
}

// The function's own defaults (10 s windows, 1 s grace, closing per sensor, ts from the payload).
const config = readAggregateConfig({});
const rules = temperatureRules(config);

/** How much work one measured run does, and how often it is repeated, per store and case. */
const plan = (
  store: StoreKindName,
  quick: boolean,
  sensors: number,
  batchSize: number,
): { batches: number } & Repetitions => {
  if (store === StoreKind.memory) {
    const records = quick ? 20_000 : batchSize === 100 ? 100_000 : 200_000;
    return { batches: Math.max(1, records / batchSize), warmups: 1, runs: quick ? 1 : 5 };
  }
  // DynamoDB Local takes milliseconds per request: size runs by batches, not records.
  const batches =
    sensors <= 5
      ? { 100: quick ? 20 : 100, 1000: quick ? 5 : 40, 10000: quick ? 2 : 10 }
      : { 100: quick ? 10 : 20, 1000: quick ? 2 : 5, 10000: 2 };
  return {
    batches: batches[batchSize as keyof typeof batches] ?? 2,
    warmups: quick || sensors > 5 ? 0 : 1,
    runs: quick ? 1 : sensors > 5 ? 3 : 5,
  };
};

/**
 * Scenarios 1 and 2: records/s through `aggregate-temperatures` on prebuilt MSK events, with the
 * in-memory store or DynamoDB Local, next to the decode floor on the same events (runs alternate
 * between the two). Every run starts from a fresh store (a fresh table for DynamoDB) and checks
 * that no record was taken for a replay. Output goes to a MemoryRecordSink, which costs nothing.
 */
export const handlerScenario = async (options: HandlerScenarioOptions): Promise<ResultRow[]> => {
  const rows: ResultRow[] = [];
  for (const sensors of [5, 10_000]) {
    for (const batchSize of options.sizes) {
      // In quick mode, DynamoDB Local with 10 000 sensors (a hundred requests per batch) runs one size.
      if (options.quick && options.store === "dynamodb" && sensors > 5 && batchSize !== 1_000)
        continue;
      const { batches, warmups, runs } = plan(options.store, options.quick, sensors, batchSize);
      const label = `batch ${count(batchSize)}, ${count(sensors)} sensors${
        options.idleTimeoutMs === undefined
          ? ""
          : `, idle timeout ${count(options.idleTimeoutMs)} ms`
      }`;
      progress(`handler, ${options.store} store, ${label}: ${warmups}+${runs} runs`);
      const events = new ReadingStream({ sensors }).events(batches, batchSize);
      const records = recordCount(events);
      const requests: number[] = [];
      const samples = await repeatPaired(
        { warmups, runs },
        async () => {
          const t0 = performance.now();
          decodeFloor(events);
          return perSecond(records, performance.now() - t0);
        },
        async () => {
          const run = await runHandler(options.store, events, options.idleTimeoutMs);
          requests.push(run.requests / batches);
          return perSecond(records, run.ms);
        },
      );
      const value = summarize(samples.figure);
      const row = compared(
        {
          scenario:
            options.store === "memory" ? "1 handler, in-memory store" : "2 handler, DynamoDB Local",
          case: label,
          metric: "records/s",
          value,
        },
        "decode floor",
        summarize(samples.baseline),
      );
      if (options.store === "dynamodb") {
        row.note = `${(requests.at(-1) ?? 0).toFixed(1)} DynamoDB requests per batch`;
      }
      if (options.store === "memory" && batchSize === 10_000 && sensors === 5) {
        row.target = ">= 60% of floor and >= 500,000/s";
        row.met = value.median >= 500_000 && (row.ratio ?? 0) >= 0.6;
      }
      if (options.store === "dynamodb" && batchSize === 10_000 && sensors === 5) {
        row.target = ">= 200,000/s";
        row.met = value.median >= 200_000;
      }
      rows.push(row);
    }
  }
  return rows;
};

/** One timed pass of the handler over `events`, from a fresh store; setup is not timed. */
const runHandler = async (
  store: StoreKindName,
  events: readonly KafkaTriggerEvent[],
  idleTimeoutMs: number | undefined,
): Promise<{ ms: number; requests: number }> => {
  const fresh =
    store === StoreKind.memory ? memoryStore(idleTimeoutMs) : await dynamoStore(idleTimeoutMs);
  const aggregate = createAggregateHandler({
    rules,
    decode: decodeOptionsFrom(config),
    topics: outputTopicsFrom(config),
    store: fresh.store,
    sink: new MemoryRecordSink(),
    logger: silentLogger,
    now: Date.now,
  });
  let windows = 0;
  const t0 = performance.now();
  for (const event of events) {
    const summary = await aggregate(event);
    if (summary.duplicates > 0 || summary.aggregated !== summary.records)
      throw new Error(
        `the handler skipped records (duplicates ${summary.duplicates}, aggregated ${summary.aggregated} of ${summary.records}): the bench's events or stores are not fresh`,
      );
    windows += summary.windowsClosed;
  }
  const ms = performance.now() - t0;
  if (windows === 0) throw new Error("no window closed: the bench's events are not realistic");
  const requests = fresh.requests();
  await fresh.dispose();
  return { ms, requests };
};

const memoryStore = (idleTimeoutMs: number | undefined) => ({
  store: new MemoryWindowStateStore<TemperatureState>(sensorIndexesFor(rules, idleTimeoutMs)),
  requests: () => 0,
  dispose: async () => {},
});

let tables = 0;

/** A store on a fresh table in DynamoDB Local, through a client that counts its requests. */
const dynamoStore = async (
  idleTimeoutMs: number | undefined,
): Promise<{
  store: WindowStateStore<TemperatureState>;
  requests: () => number;
  dispose: () => Promise<void>;
}> => {
  const counting = countingDynamoClient();
  const tableName = `bench-${process.pid}-${Date.now().toString(36)}-${tables++}`;
  await ensureStateTable(counting.client, tableName);
  counting.reset();
  return {
    store: new DynamoWindowStateStore<TemperatureState>({
      client: counting.client,
      tableName,
      retentionMs: config.stateRetentionMs,
      indexes: sensorIndexesFor(rules, idleTimeoutMs),
    }),
    requests: counting.total,
    dispose: async () => {
      await counting.client.send(new DeleteTableCommand({ TableName: tableName }));
      counting.client.destroy();
    },
  };
};
