import { randomUUID } from "node:crypto";
import { type Consumer, Kafka, logLevel, type Producer } from "kafkajs";
import { trigger as declaredTrigger } from "../../functions/aggregate-temperatures/trigger.ts";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import { HARNESS_NODE_FLAGS } from "../../harness/commands/node-flags.ts";
import { createTopicsWithLeaders } from "../../harness/commands/topics.ts";
import {
  defaultGeneratorOptions,
  generateRecord,
  seededRandom,
} from "../../harness/producer/reading-generator.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import type { HarnessChildInput, HarnessChildResult } from "../children/harness.ts";
import { count, type Measured, progress, type ResultRow } from "../measure.ts";
import { startChild } from "./child-process.ts";

const RATE_PER_SECOND = 10_000;
const TICK_MS = 20;
const SENSORS = 10;
const WINDOW_MS = 10_000;
const GRACE_MS = 1_000;

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/** A percentile shown with the fastest and slowest window; "runs" is the number of windows. */
const spread = (sorted: readonly number[], p: number): Measured => ({
  median: percentile(sorted, p),
  min: sorted[0] ?? Number.NaN,
  max: sorted.at(-1) ?? Number.NaN,
  runs: sorted.length,
});

/**
 * Scenario 5: the time from producing the reading that closes a window (the sensor's first reading
 * at or past the window's end + grace) to that window arriving on the output topic, at a steady
 * 10 000 readings/s of live event time, through the harness (in its own process) and the real
 * `aggregate-temperatures`. Run with the trigger as declared (batch 100, 0.5 s batching window)
 * and, in full mode, with batch 10 000. Readings of a warm-up period are not measured.
 */
export const latencyScenario = async (options: { quick: boolean }): Promise<ResultRow[]> => {
  const configs = [
    { batchSize: declaredTrigger.batchSize, windowSeconds: 0.5 },
    ...(options.quick ? [] : [{ batchSize: 10_000, windowSeconds: 0.5 }]),
  ];
  const rows: ResultRow[] = [];
  for (const config of configs) {
    rows.push(...(await measureLatency({ ...config, quick: options.quick })));
  }
  return rows;
};

interface LatencyRun {
  batchSize: number;
  windowSeconds: number;
  quick: boolean;
}

const measureLatency = async (options: LatencyRun): Promise<ResultRow[]> => {
  const warmupSeconds = options.quick ? 3 : 5;
  const seconds = options.quick ? 10 : 60;
  const brokers = readStackEndpoints().kafkaBrokers;
  const kafka = new Kafka({ clientId: "bench-latency", brokers, logLevel: logLevel.NOTHING });
  const run = Date.now().toString(36);
  const raw = `bench-latency-raw-${run}`;
  const out = `bench-latency-out-${run}`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsWithLeaders(admin, [
    { topic: raw, numPartitions: 3 }, // as the project's raw-temperature
    { topic: out, numPartitions: 1 },
  ]);
  const harness = startHarnessChild(options, raw, out, brokers);
  const producer = kafka.producer(PRODUCER_CONFIG);
  const reader = kafka.consumer({ groupId: `bench-latency-reader-${randomUUID()}` });
  // When each window's closing reading was produced, by `<sensor>|<window end>`.
  const closersProducedAt = new Map<string, number>();
  const latencies: number[] = [];
  try {
    await harness.ready;
    await producer.connect();
    await readWindows(reader, out, (w, arrivedAt) => {
      const producedAt = closersProducedAt.get(`${w.sensor}|${w.end}`);
      if (producedAt !== undefined) latencies.push(arrivedAt - producedAt);
    });
    const label = `batch ${count(options.batchSize)}, batching window ${options.windowSeconds} s`;
    progress(
      `latency, ${label}: ${count(RATE_PER_SECOND)} readings/s, ${warmupSeconds} s warm-up + ${seconds} s`,
    );
    const measureFrom = Date.now() + warmupSeconds * 1000;
    const behind = await produceSteadily(producer, raw, {
      measureFrom,
      end: measureFrom + seconds * 1000,
      closersProducedAt,
    });
    // The last windows' closing readings need their batch to be processed and produced.
    await new Promise((r) => setTimeout(r, options.windowSeconds * 1000 + 3_000));
    harness.stop();
    const result = await harness.result;
    return latencyRows(options, label, {
      sorted: [...latencies].sort((a, b) => a - b),
      closersProducedAt,
      behind,
      peakRssMb: result.peakRssMb,
    });
  } finally {
    harness.stop();
    await harness.result.catch(() => {});
    await reader.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [raw, out] }).catch(() => {});
    await admin.disconnect();
  }
};

/** The harness in its own process, with `aggregate-temperatures` reading `raw` from its end. */
const startHarnessChild = (options: LatencyRun, raw: string, out: string, brokers: string[]) =>
  startChild<HarnessChildResult>(
    "harness.ts",
    {
      topic: raw,
      groupId: `bench-latency-${randomUUID()}`,
      batchSize: options.batchSize,
      batchingWindowSeconds: options.windowSeconds,
      startingPosition: "LATEST",
    } satisfies HarnessChildInput,
    {
      nodeFlags: HARNESS_NODE_FLAGS,
      env: {
        STATE_STORE: "memory",
        OUTPUT_TOPIC: out,
        LATE_TOPIC: out,
        DEAD_LETTER_TOPIC: out,
        KAFKA_BROKERS: brokers.join(","),
        LOG_LEVEL: "warn",
      },
    },
  );

/** Reads `out` from its beginning, each window with the time it arrived; resolves once reading. */
const readWindows = async (
  reader: Consumer,
  out: string,
  onWindow: (w: { sensor?: string; end?: number }, arrivedAt: number) => void,
) => {
  await reader.connect();
  await reader.subscribe({ topic: out, fromBeginning: true });
  const joined = new Promise<void>((resolve) =>
    reader.on(reader.events.GROUP_JOIN, () => resolve()),
  );
  await reader.run({
    eachMessage: async ({ message }) => {
      const arrivedAt = Date.now();
      onWindow(JSON.parse(message.value?.toString() ?? "{}"), arrivedAt);
    },
  });
  await joined;
};

/**
 * Produces RATE_PER_SECOND readings of live event time, a batch every TICK_MS, until `end`,
 * noting when each window's closing reading was produced. Returns the ticks it fell behind in.
 */
const produceSteadily = async (
  producer: Producer,
  raw: string,
  run: { measureFrom: number; end: number; closersProducedAt: Map<string, number> },
) => {
  const { measureFrom, end, closersProducedAt } = run;
  const random = seededRandom(11);
  const generator = { ...defaultGeneratorOptions, sensors: SENSORS, seed: 0 };
  const perTick = (RATE_PER_SECOND * TICK_MS) / 1000;
  let behind = 0;
  for (let tick = Date.now(); tick < end; tick += TICK_MS) {
    const now = Date.now();
    const messages = Array.from({ length: perTick }, () => {
      const m = generateRecord(now, generator, random);
      const closes = now - (now % WINDOW_MS); // the end of the window this reading may close
      const key = `${m.key}|${closes}`;
      // Only windows closing after measuring began: for those, the first reading seen is the closer.
      if (
        now >= measureFrom &&
        closes + GRACE_MS >= measureFrom &&
        now % WINDOW_MS >= GRACE_MS &&
        !closersProducedAt.has(key)
      )
        closersProducedAt.set(key, now);
      return m;
    });
    await producer.send({ topic: raw, acks: -1, messages });
    const wait = tick + TICK_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else behind++;
  }
  return behind;
};

/** The p50 and p99 rows of one configuration, from the latencies measured (sorted). */
const latencyRows = (
  options: LatencyRun,
  label: string,
  measured: {
    sorted: readonly number[];
    closersProducedAt: ReadonlyMap<string, number>;
    behind: number;
    peakRssMb: number;
  },
): ResultRow[] => {
  const { sorted, closersProducedAt, behind } = measured;
  const targetMs = options.windowSeconds * 1000 + 250;
  const boundaries = new Set([...closersProducedAt.keys()].map((k) => k.split("|")[1])).size;
  const caseLabel = `${label}, ${count(RATE_PER_SECOND)} readings/s, ${SENSORS} sensors`;
  const note = `${sorted.length} of ${closersProducedAt.size} windows at ${boundaries} window ends${
    behind > 0 ? `; producer behind in ${behind} ticks` : ""
  }; harness peak RSS ${measured.peakRssMb.toFixed(0)} MB`;
  return [
    {
      scenario: "5 latency",
      case: caseLabel,
      metric: "close-to-output p50 ms",
      value: spread(sorted, 50),
      note,
    },
    {
      scenario: "5 latency",
      case: caseLabel,
      metric: "close-to-output p99 ms",
      value: spread(sorted, 99),
      target: `< ${targetMs} ms (batching window + 250 ms)`,
      met: sorted.length > 0 && percentile(sorted, 99) < targetMs,
    },
  ];
};
