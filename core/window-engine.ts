import type { Aggregation } from "./aggregation.ts";
import type { DecodedRecord } from "./decode-reading.ts";
import { partitionIdOf, type Reading, type RecordCoordinates } from "./reading.ts";
import { type WindowSpec, windowCloseTime, windowStartFor } from "./window-spec.ts";
import {
  ClosedBy,
  type ClosedByName,
  ClosingStrategy,
  type ClosingStrategyName,
  emptyPartitionState,
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

export interface AppliedBatch<S, I extends BatchItem> {
  /** New states of the partitions the batch touched. */
  partitions: Map<string, PartitionState>;
  /** New states of the sensors the batch touched. */
  sensors: Map<string, SensorState<S>>;
  late: LateReading[];
  /** Bad records to dead-letter, in batch order. */
  deadLetters: DeadLetterItem<I>[];
  /** Records skipped because an earlier delivery of them was already applied. */
  duplicates: number;
  /** Readings aggregated into a window. */
  aggregated: number;
}

/**
 * Applies a batch's records, in the order given (each partition's records in offset order), to
 * the loaded state. Pure: the inputs are not modified.
 *
 * Each record is decided as if it were processed alone, so batching never changes the result:
 * it is late when its window was already closed by the stream time before it (Quix Streams'
 * and Kafka Streams' rule), otherwise it is folded into its window. A record at or below an
 * offset already applied (kept per partition and per sensor) is skipped, which makes redelivery
 * of a whole or an overlapping batch a no-op.
 *
 * Windows are not closed here: call {@link closeWindows} afterwards (closing depends only on
 * stream time, so closing once per batch gives the same windows as closing after every record).
 *
 * @param partitions loaded partition states; missing ones start empty.
 * @param sensors loaded sensor states; missing ones start empty.
 * @param now wall-clock ms, recorded as the sensors' `lastReadingAt`.
 */
export const applyRecords = <S, O, I extends BatchItem>(
  rules: WindowRules<S, O>,
  items: readonly I[],
  partitions: ReadonlyMap<string, PartitionState>,
  sensors: ReadonlyMap<string, SensorState<S>>,
  now: number,
): AppliedBatch<S, I> => {
  const { spec, aggregation } = rules;
  const byPartition = rules.closing === ClosingStrategy.partition;
  const out: AppliedBatch<S, I> = {
    partitions: new Map(),
    sensors: new Map(),
    late: [],
    deadLetters: [],
    duplicates: 0,
    aggregated: 0,
  };

  let pid = "";
  let pidOf: { topic: string; partition: number } | undefined;
  let partition = emptyPartitionState("");
  for (const item of items) {
    // Records come grouped by partition: look the partition up once per group, not per record.
    if (pidOf?.partition !== item.source.partition || pidOf.topic !== item.source.topic) {
      pidOf = item.source;
      pid = partitionIdOf(pidOf);
      let state = out.partitions.get(pid);
      if (state === undefined) {
        state = { ...(partitions.get(pid) ?? emptyPartitionState(pid)) };
        out.partitions.set(pid, state);
      }
      partition = state;
    }
    const offset = item.source.offset;
    if (offset <= partition.appliedOffset) {
      out.duplicates++;
      continue;
    }
    partition.appliedOffset = offset;
    if (!item.decoded.ok) {
      out.deadLetters.push(item as DeadLetterItem<I>);
      continue;
    }

    const reading = item.decoded.reading;
    const partitionTimeBefore = partition.streamTime;
    partition.streamTime = maxTime(partition.streamTime, reading.eventTime);

    let sensor = out.sensors.get(reading.sensor);
    if (sensor === undefined) {
      sensor = copySensor(sensors.get(reading.sensor) ?? emptySensorState<S>(reading.sensor, pid));
      out.sensors.set(reading.sensor, sensor);
    }
    // The partition's item may lag the sensor's after a crash between their writes: the sensor's
    // own guard decides whether this reading was already folded in.
    if (offset <= (sensor.appliedOffsets[pid] ?? -1)) {
      out.duplicates++;
      continue;
    }
    sensor.appliedOffsets[pid] = offset;
    sensor.partitionId = pid;
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
    // The window object is this batch's own (copySensor copies them), so it can take the new state.
    found.state = aggregation.add(found.state, reading);
  } else {
    windows.splice(i + 1, 0, { start, state: aggregation.init(reading) });
  }
};

/**
 * Closes every open window whose `end + grace` the governing stream time has reached (the
 * sensor's own under closing "key", its partition's under "partition"), moving it to the sensor's
 * `pending` windows. Pure. Returns only the sensors that changed.
 */
export const closeWindows = <S, O>(
  rules: WindowRules<S, O>,
  sensors: Iterable<SensorState<S>>,
  partitions: ReadonlyMap<string, PartitionState>,
): Map<string, SensorState<S>> => {
  const changed = new Map<string, SensorState<S>>();
  for (const sensor of sensors) {
    const governing =
      rules.closing === ClosingStrategy.partition
        ? (partitions.get(sensor.partitionId)?.streamTime ?? null)
        : sensor.streamTime;
    const closed = closeThrough(
      rules,
      sensor,
      maxTime(governing, sensor.closedThrough),
      ClosedBy.streamTime,
    );
    if (closed !== undefined) changed.set(sensor.sensor, closed);
  }
  return changed;
};

/**
 * Idle closing (opt-in): when a sensor has sent nothing for `idleTimeoutMs` of wall-clock time,
 * closes its windows whose `end + grace` the wall clock has passed, and records that in
 * `closedThrough` so that readings arriving later for them are late. Pure; returns undefined when
 * nothing closes.
 */
export const closeIdleWindows = <S, O>(
  rules: WindowRules<S, O>,
  sensor: SensorState<S>,
  now: number,
  idleTimeoutMs: number,
): SensorState<S> | undefined => {
  if (now - sensor.lastReadingAt < idleTimeoutMs) return undefined;
  const closed = closeThrough(rules, sensor, now, ClosedBy.idle);
  if (closed === undefined) return undefined;
  const last = closed.pending.at(-1) as OpenWindow<S>;
  return {
    ...closed,
    closedThrough: maxTime(closed.closedThrough, windowCloseTime(last.start, rules.spec)),
  };
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

/** Moves the windows closed at `time` to pending; undefined when none closes. */
const closeThrough = <S, O>(
  rules: WindowRules<S, O>,
  sensor: SensorState<S>,
  time: number | null,
  closedBy: ClosedByName,
): SensorState<S> | undefined => {
  if (time === null) return undefined;
  let n = 0;
  while (
    n < sensor.windows.length &&
    windowCloseTime((sensor.windows[n] as OpenWindow<S>).start, rules.spec) <= time
  )
    n++;
  if (n === 0) return undefined;
  return {
    ...sensor,
    windows: sensor.windows.slice(n),
    pending: [...sensor.pending, ...sensor.windows.slice(0, n).map((w) => ({ ...w, closedBy }))],
  };
};

/**
 * The windows a sensor has pending, in emission form, and the sensor without them (to store once
 * they are emitted). Pure.
 */
export const takePending = <S, O>(
  rules: WindowRules<S, O>,
  sensor: SensorState<S>,
): { windows: ClosedWindow<O>[]; emptied: SensorState<S> } => ({
  windows: sensor.pending.map((w) => ({
    sensor: sensor.sensor,
    start: w.start,
    end: w.start + rules.spec.sizeMs,
    result: rules.aggregation.result(w.state),
    closedBy: w.closedBy,
  })),
  emptied: { ...sensor, pending: [] },
});

/** A sensor's state the batch may change: its open windows copied too, as folding replaces their state. */
const copySensor = <S>(s: SensorState<S>): SensorState<S> => ({
  ...s,
  appliedOffsets: { ...s.appliedOffsets },
  windows: s.windows.map((w) => ({ ...w })),
  pending: [...s.pending],
});

const maxTime = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);
