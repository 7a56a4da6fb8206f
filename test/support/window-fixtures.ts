import {
  type BruteForceRules,
  bruteForce,
  bruteForceWindows,
  type ExpectedWindow,
  type SeedReading,
} from "../../bench/brute-force-oracle.ts";
import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import { readingRecord } from "./trigger-events.ts";

export type { BruteForceRules, ExpectedWindow, SeedReading };
export { bruteForce, bruteForceWindows };

/**
 * A deterministic stream like the seed producer's: `count` readings from `sensors` sensors, integer
 * values 0..100, 0..1 s apart, keyed by sensor, each sensor in a fixed partition. Seeded, so a
 * failure reproduces.
 */
export const seedScenario = (options: {
  count: number;
  sensors?: number;
  partitions?: number;
  seed?: number;
  start?: number;
  /** Share of readings whose ts is pushed back by 0..3 s (some become late). */
  outOfOrder?: number;
}): SeedReading[] => {
  const random = mulberry32(options.seed ?? 42);
  const sensors = options.sensors ?? 5;
  const partitions = options.partitions ?? 1;
  const offsets = new Array<number>(partitions).fill(0);
  let now = options.start ?? Date.UTC(2024, 4, 1, 12, 0, 0);
  const out: SeedReading[] = [];
  for (let i = 0; i < options.count; i++) {
    const s = Math.floor(random() * sensors);
    const partition = s % partitions;
    const shift = random() < (options.outOfOrder ?? 0) ? Math.floor(random() * 3000) : 0;
    const offset = offsets[partition] ?? 0;
    offsets[partition] = offset + 1;
    out.push({
      sensor: `Sensor${s + 1}`,
      ts: now - shift,
      value: Math.floor(random() * 101),
      partition,
      offset,
    });
    now += Math.floor(random() * 1000);
  }
  return out;
};

export const toRecords = (
  readings: readonly SeedReading[],
  topic = "raw-temperature",
): KafkaTriggerRecord[] =>
  readings.map((r) =>
    readingRecord({
      sensor: r.sensor,
      ts: r.ts,
      value: r.value,
      offset: r.offset,
      partition: r.partition,
      topic,
    }),
  );

/** Splits `items` into consecutive batches of random sizes 1..maxSize (seeded). */
export const randomBatches = <T>(items: readonly T[], maxSize: number, seed = 7): T[][] => {
  const random = mulberry32(seed);
  const batches: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = 1 + Math.floor(random() * maxSize);
    batches.push(items.slice(i, i + size));
    i += size;
  }
  return batches;
};

/** A small seeded PRNG: https://gist.github.com/tommyettinger/46a874533244883189143505d203312c */
export const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
