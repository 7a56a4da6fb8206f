/**
 * Run with --expose-gc, in its own process: `aggregate-temperatures` with the in-memory store over
 * `batches` batches of 10 000 seed-like readings (5 sensors), output to a sink that forgets it.
 * Reads RSS and heap after a full GC once warmed up (after `warmupBatches`), then 20 times until
 * the end. Open windows are the only state the function keeps, so neither may grow.
 */
import type { TemperatureState } from "../../core/temperature-aggregation.ts";
import { createAggregateHandler } from "../../functions/aggregate-temperatures/aggregate-handler.ts";
import { readAggregateConfig } from "../../functions/aggregate-temperatures/config.ts";
import { decodeOptionsFrom } from "../../functions/aggregate-temperatures/dependencies.ts";
import type { WindowOutputs } from "../../functions/partition-step.ts";
import {
  outputTopicsFrom,
  temperatureRules,
} from "../../functions/temperature-windows/dependencies.ts";
import { silentLogger } from "../../lib/logger.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import { ReadingStream } from "../events.ts";
import { childInput, reportResult, rssMb } from "./protocol.ts";

export interface HandlerRssInput {
  batches: number;
  batchSize: number;
  warmupBatches: number;
}

export interface MemorySample {
  batch: number;
  rssMb: number;
  heapMb: number;
}

export interface HandlerRssResult {
  start: MemorySample;
  end: MemorySample;
  samples: MemorySample[];
  openWindows: number;
  records: number;
}

const input = childInput<HandlerRssInput>();
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run this child with --expose-gc");
const config = readAggregateConfig({});
const rules = temperatureRules(config);
const store = new MemoryWindowStateStore<TemperatureState, WindowOutputs<TemperatureState>>();
const aggregate = createAggregateHandler({
  rules,
  decode: decodeOptionsFrom(config),
  topics: outputTopicsFrom(config),
  store,
  sink: { send: async () => {} },
  logger: silentLogger,
  now: Date.now,
  cache: new Map(),
});
const sample = (batch: number): MemorySample => {
  gc();
  return { batch, rssMb: rssMb(), heapMb: process.memoryUsage().heapUsed / 2 ** 20 };
};

const stream = new ReadingStream({ sensors: 5 });
const samples: MemorySample[] = [];
const every = Math.max(1, Math.floor(input.batches / 20));
let records = 0;
for (let b = 1; b <= input.batches; b++) {
  const summary = await aggregate(stream.nextEvent(input.batchSize));
  if (summary.duplicates > 0) throw new Error("the stream repeated offsets");
  records += summary.records;
  if (b === input.warmupBatches || (b > input.warmupBatches && b % every === 0))
    samples.push(sample(b));
}
let openWindows = 0;
for (const partition of store.partitionStates()) {
  for (const sensor of partition.sensors.values()) openWindows += sensor.windows.length;
}
const last = samples.at(-1) ?? sample(input.batches);
reportResult({
  start: samples[0] ?? last,
  end: last,
  samples,
  openWindows,
  records,
} satisfies HandlerRssResult);
