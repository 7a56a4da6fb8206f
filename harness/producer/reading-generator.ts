import { randomUUID } from "node:crypto";

/** What the synthetic producer makes, like the seed tutorial's producer, with knobs for testing. */
export interface ReadingGeneratorOptions {
  /** Sensors `Sensor1`..`SensorN`. Default 5. */
  sensors: number;
  /** Share of readings pushed back in time within the grace period (still counted). Default 0. */
  outOfOrderShare: number;
  /** Share of readings pushed back past their window's close (late). Default 0. */
  lateShare: number;
  /** Share of malformed records (bad JSON, missing or wrong fields, nulls). Default 0. */
  malformedShare: number;
  /** Write values as the seed does: a JSON string holding the JSON. Default false. */
  doubleEncoded: boolean;
  /** Seeds the random choices, so a run can be reproduced. */
  seed: number;
}

export const defaultGeneratorOptions: ReadingGeneratorOptions = {
  sensors: 5,
  outOfOrderShare: 0,
  lateShare: 0,
  malformedShare: 0,
  doubleEncoded: false,
  seed: Date.now(),
};

export interface GeneratedRecord {
  key: string | null;
  value: string | null;
  headers: { uuid: string };
  /** The Kafka timestamp to set (epoch ms, as a string, as kafkajs wants it). */
  timestamp: string;
}

/**
 * Makes one record at event time `eventTime`: a random sensor, an integer value 0..100, the seed's
 * `ts` format (naive ISO time with microseconds, read as UTC), a `uuid` header, key = sensor.
 * Pure apart from the random source passed in.
 */
export const generateRecord = (
  eventTime: number,
  options: ReadingGeneratorOptions,
  random: () => number,
): GeneratedRecord => {
  const sensor = `Sensor${1 + Math.floor(random() * options.sensors)}`;
  const headers = { uuid: randomUUID() };
  const timestamp = String(eventTime);
  const roll = random();
  if (roll < options.malformedShare) {
    const bad = MALFORMED[Math.floor(random() * MALFORMED.length)] as (typeof MALFORMED)[number];
    return { key: bad.key === undefined ? sensor : bad.key, value: bad.value, headers, timestamp };
  }
  let ts = eventTime;
  if (roll < options.malformedShare + options.lateShare)
    ts -= 15_000 + Math.floor(random() * 10_000);
  else if (roll < options.malformedShare + options.lateShare + options.outOfOrderShare)
    ts -= Math.floor(random() * 900);
  const reading = JSON.stringify({ ts: seedTimestamp(ts), value: Math.floor(random() * 101) });
  return {
    key: sensor,
    value: options.doubleEncoded ? JSON.stringify(reading) : reading,
    headers,
    timestamp,
  };
};

/** Python's `datetime.isoformat()` of a naive time: microseconds, no offset (read as UTC). */
export const seedTimestamp = (ms: number) => new Date(ms).toISOString().replace("Z", "000");

/** Records that are not readings, one of each kind the function must dead-letter. */
const MALFORMED: { key?: string | null; value: string | null }[] = [
  { value: "not json at all" },
  { value: JSON.stringify({ value: 42 }) },
  { value: JSON.stringify({ ts: "yesterday", value: 42 }) },
  { value: JSON.stringify({ ts: "2024-05-01T12:00:00", value: "42" }) },
  { value: JSON.stringify({ ts: null, value: null }) },
  { value: null },
  { key: null, value: JSON.stringify({ ts: "2024-05-01T12:00:00", value: 1 }) },
  { value: JSON.stringify({ ts: "9999-01-01T00:00:00", value: 1 }) },
];

/** A small seeded PRNG (mulberry32), so runs can be repeated. */
export const seededRandom = (seed: number) => {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};
