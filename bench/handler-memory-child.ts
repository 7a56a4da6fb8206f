/**
 * Runs in its own process (with --expose-gc) for the memory scenario: aggregate-temperatures with
 * the in-memory store over `batches` batches of 10,000 readings, RSS after the first batches and
 * at the end, each after a full GC. Open windows are the only state, so RSS must not grow.
 */
import { type TemperatureState, temperatureAggregation } from "../core/temperature-aggregation.ts";
import { createAggregateHandler } from "../functions/aggregate-temperatures/aggregate-handler.ts";
import { silentLogger } from "../lib/logger.ts";
import { MemoryWindowStateStore } from "../state/memory-window-state-store.ts";
import { readingEvents } from "./events.ts";

const batches = Number(process.argv[2] ?? 1000);
const store = new MemoryWindowStateStore<TemperatureState>();
const aggregate = createAggregateHandler({
  rules: {
    spec: { sizeMs: 10_000, graceMs: 1_000 },
    closing: "key",
    aggregation: temperatureAggregation,
  },
  decode: { timestampSource: "payload", maxEventTimeSkewMs: 86_400_000 * 365 },
  topics: { windows: "w", late: "l", deadLetters: "d" },
  store,
  // Output goes to a sink that forgets it, so only the function's own memory is measured.
  sink: { send: async () => {} },
  logger: silentLogger,
  now: Date.now,
});
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const rssMb = () => {
  gc();
  return process.memoryUsage().rss / 1024 / 1024;
};
const warmup = 10;
let startRss = 0;
for (let b = 0; b < batches; b++) {
  const [event] = readingEvents({
    batches: 1,
    batchSize: 10_000,
    sensors: 5,
    firstOffset: b * 10_000,
  });
  if (event === undefined) throw new Error("no event");
  await aggregate(event);
  if (b === warmup - 1) startRss = rssMb();
}
process.stdout.write(`${JSON.stringify({ batches, startRssMb: startRss, endRssMb: rssMb() })}\n`);
