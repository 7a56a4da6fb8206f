import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { sensorIndexesFor } from "../../core/sensor-indexes.ts";
import {
  type TemperatureState,
  type TemperatureSummary,
  temperatureAggregation,
} from "../../core/temperature-aggregation.ts";
import type { WindowRules } from "../../core/window-engine.ts";
import { createAggregateHandler } from "../../functions/aggregate-temperatures/aggregate-handler.ts";
import { MemoryRecordSink } from "../../functions/record-sink.ts";
import { silentLogger } from "../../lib/logger.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { ensureStateTable } from "../../state/dynamodb-state-table.ts";
import { DynamoWindowStateStore } from "../../state/dynamodb-window-state-store.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import type { WindowStateStore } from "../../state/window-state-store.ts";
import { decodeOnly, readingEvents } from "../events.ts";
import { progress, type ResultRow, repeat, summarize } from "../measure.ts";

const rules: WindowRules<TemperatureState, TemperatureSummary> = {
  spec: { sizeMs: 10_000, graceMs: 1_000 },
  closing: "key",
  aggregation: temperatureAggregation,
};

const handlerOver = (store: WindowStateStore<TemperatureState>) =>
  createAggregateHandler({
    rules,
    decode: { timestampSource: "payload", maxEventTimeSkewMs: 86_400_000 },
    topics: {
      windows: "agg-temperature",
      late: "agg-temperature-late",
      deadLetters: "raw-temperature-dlq",
    },
    store,
    sink: new MemoryRecordSink(),
    logger: silentLogger,
    now: Date.now,
  });

let tables = 0;

/** A DynamoDB Local client that counts requests, and a fresh table for each run. */
const dynamoStore = async (counter: { requests: number }) => {
  const client = new DynamoDBClient({
    endpoint: readStackEndpoints().dynamodbEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      counter.requests++;
      return next(args);
    },
    { step: "initialize", name: "countRequests" },
  );
  const tableName = `bench-${process.pid}-${tables++}`;
  await ensureStateTable(client, tableName);
  counter.requests = 0;
  return new DynamoWindowStateStore<TemperatureState>({
    client,
    tableName,
    retentionMs: 86_400_000,
    indexes: sensorIndexesFor(rules, undefined),
  });
};

/**
 * Scenarios 1 and 2: records/s through aggregate-temperatures on prebuilt MSK events, with the
 * in-memory store and with DynamoDB Local, next to the decode floor on the same events.
 */
export const handlerScenario = async (options: {
  quick: boolean;
  stores: ("memory" | "dynamodb")[];
}): Promise<ResultRow[]> => {
  const rows: ResultRow[] = [];
  const runs = options.quick ? 1 : 5;
  const warmups = options.quick ? 0 : 1;
  for (const sensors of [5, 10_000]) {
    for (const batchSize of [100, 1_000, 10_000]) {
      const perRun = options.quick ? 20_000 : batchSize === 100 ? 50_000 : 200_000;
      const batches = Math.max(1, Math.floor(perRun / batchSize));
      const events = readingEvents({ batches, batchSize, sensors });
      const records = batches * batchSize;
      const label = `batch ${batchSize.toLocaleString("en-US")}, ${sensors.toLocaleString("en-US")} sensors`;
      const floor = summarize(
        await repeat(warmups, runs, async () => {
          const t0 = performance.now();
          decodeOnly(events);
          return (records / (performance.now() - t0)) * 1000;
        }),
      );
      for (const storeKind of options.stores) {
        if (storeKind === "dynamodb" && sensors === 10_000 && batchSize === 100 && !options.quick)
          continue;
        progress(`handler, ${storeKind} store, ${label}`);
        const counter = { requests: 0 };
        let requestsPerBatch = 0;
        const samples = await repeat(
          storeKind === "memory" ? warmups + 1 : warmups,
          storeKind === "dynamodb" && sensors > 5 ? Math.min(runs, 3) : runs,
          async () => {
            const store =
              storeKind === "memory"
                ? new MemoryWindowStateStore<TemperatureState>()
                : await dynamoStore(counter);
            const handle = handlerOver(store);
            const t0 = performance.now();
            for (const event of events) {
              const summary = await handle(event);
              if (summary.duplicates > 0)
                throw new Error("bench events were replays: the guard skipped them");
            }
            const ms = performance.now() - t0;
            requestsPerBatch = counter.requests / batches;
            return (records / ms) * 1000;
          },
        );
        const value = summarize(samples);
        const row: ResultRow = {
          scenario:
            storeKind === "memory" ? "1 handler, in-memory store" : "2 handler, DynamoDB Local",
          case: label,
          metric: "records/s",
          value,
          baseline: { name: "decode floor", value: floor },
          ratio: value.median / floor.median,
        };
        if (storeKind === "dynamodb")
          row.note = `${requestsPerBatch.toFixed(1)} DynamoDB requests per batch`;
        if (storeKind === "memory" && batchSize === 10_000 && sensors === 5) {
          row.target = ">= 60% of floor and >= 500,000/s";
          row.met = value.median >= 500_000 && value.median / floor.median >= 0.6;
        }
        if (storeKind === "dynamodb" && batchSize === 10_000 && sensors === 5) {
          row.target = ">= 200,000/s";
          row.met = value.median >= 200_000;
        }
        rows.push(row);
      }
    }
  }
  return rows;
};
