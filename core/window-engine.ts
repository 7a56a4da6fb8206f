import type { Aggregation } from "./aggregation.ts";
import type { DecodedRecord } from "./decode-reading.ts";
import type { Reading, RecordCoordinates } from "./reading.ts";
import { type WindowSpec, windowCloseTime, windowStartFor } from "./window-spec.ts";
import {
  ClosedBy,
  type ClosedByName,
  type ClosedWindowState,
  ClosingStrategy,
  type ClosingStrategyName,
  emptySensorState,
  type OpenWindow,
  type PartitionState,
  type SensorState,
} from "./window-state.ts";

/** The rules one function applies: window shape, closing strategy and aggregation. */
export interface WindowRules<S, O> {
  spec: WindowSpec;
  closing: ClosingStrategyName;
  aggregation: Aggregation<S, O>;
}

/** One record of the batch, decoded, with its coordinates. Callers extend it with what they need back. */
export interface BatchItem {
  source: RecordCoordinates;
  decoded: DecodedRecord;
}

/** A batch item whose decoding failed: it goes to the dead-letter topic. */
export type DeadLetterItem<I extends BatchItem> = I & {
  decoded: Extract<DecodedRecord, { ok: false }>;
};

/** A reading whose window had already closed when it arrived: not aggregated, reported instead. */
export interface LateReading {
  reading: Reading;
  windowStart: number;
  windowEnd: number;
  /** `end + grace`: the stream time at which the window closed. */
  windowClosedAt: number;
  /** The stream time when the reading arrived. */
  streamTime: number;
  /** How far past the window's close stream time was: `streamTime - windowClosedAt`, >= 0. */
  lateByMs: number;
}

/** A window as emitted. */
export interface ClosedWindow<O> {
  sensor: string;
  start: number;
  end: number;
  result: O;
  closedBy: ClosedByName;
}

/** What one batch of one partition did to its state. */
export interface AppliedBatch<S, I extends BatchItem> {
  /** The partition afterwards, its closed windows already taken out of its sensors. */
  partition: PartitionState<S>;
  /** Sensors whose state changed (read, closed or both). */
  changed: Set<string>;
  /** Windows the batch closed, oldest first per sensor. */
  closed: ClosedWindowState<S>[];
  late: LateReading[];
  /** Bad records to dead-letter, in batch order. */
  deadLetters: DeadLetterItem<I>[];
  /** Records skipped because an earlier delivery of them was already applied. */
  duplicates: number;
  /** Readings aggregated into a window. */
  aggregated: number;
}

/**
 * Applies one partition's batch (its records in offset order) to the partition's state, then closes
 * the windows stream time has passed. Pure: `partition` is not modified.
 *
 * Each record is decided as if it were processed alone, so batching never changes the result: it
 * is late when its window was already closed by the stream time before it (Quix Streams' and Kafka
 * Streams' rule), otherwise it is folded into its window. A record at or below the partition's
 * applied offset is skipped, which makes redelivery of a whole or an overlapping batch a no-op.
 * Closing depends only on stream time, so closing once per batch gives the same windows as
 * closing after every record.
 *
 * @param now wall-clock ms, recorded as the sensors' `lastReadingAt`.
 */
export const applyBatch = <S, O, I extends BatchItem>(
  rules: WindowRules<S, O>,
  partition: PartitionState<S>,
  items: readonly I[],
  now: number,
): AppliedBatch<S, I> => {
  const read = readRecords(rules, partition, items, now);
  const candidates =
    rules.closing === ClosingStrategy.partition
      ? overlay(partition.sensors, read.sensors).values()
      : read.sensors.values();
  // The batch's copies take the closing too; a sensor closing without having read joins them.
  const sensors = read.sensors;
  const closed = closeInto(sensors, rules, candidates, read.streamTime);
  return {
    partition: {
      partitionId: partition.partitionId,
      streamTime: read.streamTime,
      appliedOffset: read.appliedOffset,
      sensors: overlay(partition.sensors, sensors),
    },
    changed: new Set(sensors.keys()),
    closed,
    late: read.late,
    deadLetters: read.deadLetters,
    duplicates: read.duplicates,
    aggregated: read.aggregated,
  };
};

interface ReadRecords<S, I extends BatchItem> {
  streamTime: number | null;
  appliedOffset: number;
  /** The sensors the records touched, as this batch's own copies. */
  sensors: Map<string, SensorState<S>>;
  late: LateReading[];
  deadLetters: DeadLetterItem<I>[];
  duplicates: number;
  aggregated: number;
}

/** Folds each record into its sensor's window, or finds it late, bad or already applied. */
const readRecords = <S, O, I extends BatchItem>(
  rules: WindowRules<S, O>,
  partition: PartitionState<S>,
  items: readonly I[],
  now: number,
): ReadRecords<S, I> => {
  const { spec, aggregation } = rules;
  const byPartition = rules.closing === ClosingStrategy.partition;
  const out: ReadRecords<S, I> = {
    streamTime: partition.streamTime,
    appliedOffset: partition.appliedOffset,
    sensors: new Map(),
    late: [],
    deadLetters: [],
    duplicates: 0,
    aggregated: 0,
  };
  for (const item of items) {
    if (item.source.offset <= out.appliedOffset) {
      out.duplicates++;
      continue;
    }
    out.appliedOffset = item.source.offset;
    if (!item.decoded.ok) {
      out.deadLetters.push(item as DeadLetterItem<I>);
      continue;
    }
    const reading = item.decoded.reading;
    const partitionTimeBefore = out.streamTime;
    out.streamTime = maxTime(out.streamTime, reading.eventTime);

    let sensor = out.sensors.get(reading.sensor);
    if (sensor === undefined) {
      const stored = partition.sensors.get(reading.sensor);
      sensor = stored === undefined ? emptySensorState<S>(reading.sensor) : copySensor(stored);
      out.sensors.set(reading.sensor, sensor);
    }
    sensor.lastReadingAt = now;

    const streamTimeBefore = maxTime(
      byPartition ? partitionTimeBefore : sensor.streamTime,
      sensor.closedThrough,
    );
    const start = windowStartFor(reading.eventTime, spec);
    const windowClosedAt = windowCloseTime(start, spec);
    if (streamTimeBefore !== null && streamTimeBefore >= windowClosedAt) {
      out.late.push({
        reading,
        windowStart: start,
        windowEnd: start + spec.sizeMs,
        windowClosedAt,
        streamTime: streamTimeBefore,
        lateByMs: streamTimeBefore - windowClosedAt,
      });
      continue;
    }
    foldIntoWindow(sensor.windows, start, reading, aggregation);
    out.aggregated++;
    sensor.streamTime = maxTime(sensor.streamTime, reading.eventTime);
  }
  return out;
};

/** Adds a reading to the window at `start`, opening it (in start order) if needed. Mutates `windows`. */
const foldIntoWindow = <S>(
  windows: OpenWindow<S>[],
  start: number,
  reading: Reading,
  aggregation: Aggregation<S, unknown>,
): void => {
  let i = windows.length - 1;
  // Readings mostly arrive in order, so the window is usually the newest one: search from the end.
  while (i >= 0 && (windows[i] as OpenWindow<S>).start > start) i--;
  const found = windows[i];
  if (found !== undefined && found.start === start) {
    // A new window object: the old one may be the stored state's (copySensor shares them).
    windows[i] = { start, state: aggregation.add(found.state, reading) };
  } else if (i === windows.length - 1) {
    windows.push({ start, state: aggregation.init(reading) });
  } else {
    windows.splice(i + 1, 0, { start, state: aggregation.init(reading) });
  }
};

/** Sensors whose windows closed, and the closed windows, oldest first per sensor. */
export interface Closing<S> {
  sensors: Map<string, SensorState<S>>;
  closed: ClosedWindowState<S>[];
}

/**
 * Closes every open window whose `end + grace` the governing stream time has reached (the
 * sensor's own under closing "key", `partitionStreamTime` under "partition"). Pure.
 */
export const closeWindows = <S, O>(
  rules: WindowRules<S, O>,
  sensors: Iterable<SensorState<S>>,
  partitionStreamTime: number | null,
): Closing<S> => {
  const copies = new Map<string, SensorState<S>>();
  const closed = closeInto(copies, rules, sensors, partitionStreamTime);
  return { sensors: copies, closed };
};

/**
 * `closeWindows`, taking the closed windows out of the sensors' copies in `copies` (a batch's
 * own, which nothing else sees). Returns the closed windows, oldest first per sensor.
 */
const closeInto = <S, O>(
  copies: Map<string, SensorState<S>>,
  rules: WindowRules<S, O>,
  sensors: Iterable<SensorState<S>>,
  partitionStreamTime: number | null,
): ClosedWindowState<S>[] =>
  closeOldestWindows(copies, rules, sensors, ClosedBy.streamTime, (sensor) =>
    maxTime(
      rules.closing === ClosingStrategy.partition ? partitionStreamTime : sensor.streamTime,
      sensor.closedThrough,
    ),
  );

/**
 * What closing by stream time and idle closing share: each sensor's oldest windows whose
 * `end + grace` the time `closingTime` gives for it has reached (none when null) are closed, as
 * `closedBy` says, and taken out of the sensor's copy in `copies`. A sensor without a copy there
 * is copied into it first, so the sensors given are never modified. Returns the closed windows,
 * oldest first per sensor.
 */
const closeOldestWindows = <S, O>(
  copies: Map<string, SensorState<S>>,
  rules: WindowRules<S, O>,
  sensors: Iterable<SensorState<S>>,
  closedBy: ClosedByName,
  closingTime: (sensor: SensorState<S>) => number | null,
): ClosedWindowState<S>[] => {
  const closed: ClosedWindowState<S>[] = [];
  for (const sensor of sensors) {
    const n = closableCount(rules, sensor, closingTime(sensor));
    if (n === 0) continue;
    let copy = copies.get(sensor.sensor);
    if (copy !== sensor) {
      copy = copySensor(sensor);
      copies.set(sensor.sensor, copy);
    }
    for (const w of copy.windows.splice(0, n)) {
      closed.push({ sensor: sensor.sensor, start: w.start, state: w.state, closedBy });
    }
  }
  return closed;
};

/**
 * Idle closing (opt-in) over a whole partition: every sensor that has sent nothing for
 * `idleTimeoutMs` of wall-clock time gets its windows whose `end + grace` the wall clock has passed
 * closed, and records that in `closedThrough` so that readings arriving later for them are late.
 * Pure.
 */
export const closeIdleWindows = <S, O>(
  rules: WindowRules<S, O>,
  sensors: Iterable<SensorState<S>>,
  now: number,
  idleTimeoutMs: number,
): Closing<S> => {
  const copies = new Map<string, SensorState<S>>();
  const closed = closeOldestWindows(copies, rules, sensors, ClosedBy.idle, (sensor) =>
    now - sensor.lastReadingAt < idleTimeoutMs ? null : now,
  );
  // Stream time has not reached these windows' close: without this, a reading arriving later
  // for one of them would open it again.
  for (const window of closed) {
    const copy = copies.get(window.sensor) as SensorState<S>;
    copy.closedThrough = maxTime(copy.closedThrough, windowCloseTime(window.start, rules.spec));
  }
  return { sensors: copies, closed };
};

/**
 * When the idle sweep should look at a sensor: once it has been quiet for the timeout and its
 * oldest open window's `end + grace` has passed on the wall clock. Null when nothing is open.
 */
export const idleDueAt = <S, O>(
  rules: WindowRules<S, O>,
  sensor: SensorState<S>,
  idleTimeoutMs: number,
): number | null => {
  const first = sensor.windows[0];
  if (first === undefined) return null;
  return Math.max(sensor.lastReadingAt + idleTimeoutMs, windowCloseTime(first.start, rules.spec));
};

/** The earliest `idleDueAt` of a partition's sensors: when the idle sweep should look at it. */
export const partitionIdleDueAt = <S, O>(
  rules: WindowRules<S, O>,
  partition: PartitionState<S>,
  idleTimeoutMs: number,
): number | null => {
  let earliest: number | null = null;
  for (const sensor of partition.sensors.values()) {
    const at = idleDueAt(rules, sensor, idleTimeoutMs);
    if (at !== null && (earliest === null || at < earliest)) earliest = at;
  }
  return earliest;
};

/**
 * Sensors that have sent nothing since `before` (wall clock): their state is dropped, as a TTL
 * drops a quiet key's state in Kafka Streams. Pure.
 */
export const quietSensors = <S>(partition: PartitionState<S>, before: number): string[] => {
  const quiet: string[] = [];
  for (const sensor of partition.sensors.values()) {
    if (sensor.lastReadingAt < before) quiet.push(sensor.sensor);
  }
  return quiet;
};

/** A closed window in emission form. Pure. */
export const windowResult = <S, O>(
  rules: WindowRules<S, O>,
  window: ClosedWindowState<S>,
): ClosedWindow<O> => ({
  sensor: window.sensor,
  start: window.start,
  end: window.start + rules.spec.sizeMs,
  result: rules.aggregation.result(window.state),
  closedBy: window.closedBy,
});

/** How many of a sensor's oldest windows close at stream time `time`. */
const closableCount = <S, O>(
  rules: WindowRules<S, O>,
  sensor: SensorState<S>,
  time: number | null,
): number => {
  if (time === null) return 0;
  let n = 0;
  while (
    n < sensor.windows.length &&
    windowCloseTime((sensor.windows[n] as OpenWindow<S>).start, rules.spec) <= time
  )
    n++;
  return n;
};

/** `base` with `changes` laid over it, as a new map (neither is modified). */
export const overlay = <K, V>(base: ReadonlyMap<K, V>, changes: ReadonlyMap<K, V>): Map<K, V> => {
  const out = new Map(base);
  for (const [k, v] of changes) out.set(k, v);
  return out;
};

/**
 * A sensor's state the batch may change: a new object, and a new array of windows (folding and
 * closing change the array; the window objects are shared, as folding replaces rather than
 * changes them).
 */
const copySensor = <S>(s: SensorState<S>): SensorState<S> => ({
  sensor: s.sensor,
  streamTime: s.streamTime,
  windows: s.windows.slice(),
  closedThrough: s.closedThrough,
  lastReadingAt: s.lastReadingAt,
});

const maxTime = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);
