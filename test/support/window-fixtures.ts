import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import { readingRecord } from "./trigger-events.ts";

export interface SeedReading {
  sensor: string;
  ts: number;
  value: number;
  partition: number;
  offset: number;
}

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

export interface ExpectedWindow {
  sensor: string;
  start: number;
  end: number;
  count: number;
  min: number;
  max: number;
  mean: number;
}

/** How brute force reads a stream: window shape and whose stream time closes a window. */
export interface BruteForceRules {
  sizeMs?: number;
  graceMs?: number;
  /** `key` (default): each sensor's own stream time; `partition`: its partition's. */
  closing?: "key" | "partition";
  /**
   * Idle closing once the stream has stopped: every window still open at the end is closed too
   * (what the idle sweep does after the timeout, when no reading comes any more).
   */
  idleAtEnd?: boolean;
}

/**
 * The windows a stream closes, by brute force: replays the readings one by one, exactly as the spec
 * words it, and computes each closed window from its members.
 */
export const bruteForceWindows = (
  readings: readonly SeedReading[],
  sizeMs = 10_000,
  graceMs = 1_000,
): ExpectedWindow[] => bruteForce(readings, { sizeMs, graceMs }).windows;

/**
 * Brute force's closed windows and the readings it found late, in input order. A reading is late
 * when the governing stream time before it (the sensor's, or its partition's) has reached its
 * window's `end + grace`; a window is closed once the governing stream time at the end reaches it.
 */
export const bruteForce = (
  readings: readonly SeedReading[],
  rules: BruteForceRules = {},
): { windows: ExpectedWindow[]; late: SeedReading[] } => {
  const { sizeMs = 10_000, graceMs = 1_000, closing = "key", idleAtEnd = false } = rules;
  const scopeOf = (r: { sensor: string; partition: number }) =>
    closing === "key" ? r.sensor : `partition ${r.partition}`;
  const late: SeedReading[] = [];
  const streamTime = new Map<string, number>();
  const members = new Map<string, { reading: SeedReading; values: number[] }>();
  for (const r of readings) {
    const start = r.ts - (((r.ts % sizeMs) + sizeMs) % sizeMs);
    const before = streamTime.get(scopeOf(r));
    streamTime.set(scopeOf(r), Math.max(before ?? r.ts, r.ts));
    if (before !== undefined && before >= start + sizeMs + graceMs) {
      late.push(r);
      continue;
    }
    const id = `${r.sensor}|${start}`;
    const window = members.get(id) ?? { reading: r, values: [] };
    window.values.push(r.value);
    members.set(id, window);
  }
  const closed: ExpectedWindow[] = [];
  for (const [id, { reading, values }] of members) {
    const start = Number(id.split("|")[1]);
    const open = (streamTime.get(scopeOf(reading)) ?? 0) < start + sizeMs + graceMs;
    if (open && !idleAtEnd) continue;
    const sum = values.reduce((a, b) => a + b, 0);
    closed.push({
      sensor: reading.sensor,
      start,
      end: start + sizeMs,
      count: values.length,
      min: Math.min(...values),
      max: Math.max(...values),
      mean: sum / values.length,
    });
  }
  closed.sort((a, b) => a.sensor.localeCompare(b.sensor) || a.start - b.start);
  return { windows: closed, late };
};

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
