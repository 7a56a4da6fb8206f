/**
 * The brute-force oracle: the windows and late readings a stream of readings must give, computed
 * the slow, obvious way, reading by reading, exactly as the window rule is worded. The tests and
 * the benchmark's parity check hold the pipeline to it.
 */

import type { TemperatureWindow } from "../core/temperature-aggregation.ts";

/** One reading of a sensor, with the partition and offset it was given. */
export interface SeedReading {
  sensor: string;
  ts: number;
  value: number;
  partition: number;
  offset: number;
}

/** A window the stream must close, as the pipeline emits it with its summary laid flat. */
export type ExpectedWindow = TemperatureWindow;

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
