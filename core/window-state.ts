/**
 * The state the window engine keeps between batches, in plain JSON-able objects. Stores persist
 * these as they are; the engine never sees how.
 *
 * State is kept **per Kafka partition**, as Quix Streams and Kafka Streams keep their state stores:
 * a sensor's readings are keyed by sensor, so they all land in one partition, and everything one
 * batch of that partition changes (its sensors' windows and the partition's applied offset) is one
 * value that a store writes atomically. A sensor whose readings arrive on two partitions (a
 * producer that changed partitioner) is aggregated separately in each, as in Quix.
 * https://quix.io/docs/quix-streams/windowing.html
 *
 * States are immutable values: the engine returns new objects and never modifies one it was given,
 * so a store or a cache may keep them by reference.
 */

/** Whose stream time closes a window: the sensor's own (Quix's default) or its partition's. */
export const ClosingStrategy = { key: "key", partition: "partition" } as const;
export type ClosingStrategyName = (typeof ClosingStrategy)[keyof typeof ClosingStrategy];

export interface OpenWindow<S> {
  start: number;
  state: S;
}

/** How a window came to close. */
export const ClosedBy = { streamTime: "stream-time", idle: "idle" } as const;
export type ClosedByName = (typeof ClosedBy)[keyof typeof ClosedBy];

/** A window whose closing is decided, with its aggregate state: what is stored until emitted. */
export interface ClosedWindowState<S> extends OpenWindow<S> {
  sensor: string;
  closedBy: ClosedByName;
}

/** Everything kept for one sensor: bounded by the number of open windows, never by history. */
export interface SensorState<S> {
  sensor: string;
  /** Largest event time seen for this sensor; null before the first reading. */
  streamTime: number | null;
  /** Open windows, oldest first. */
  windows: OpenWindow<S>[];
  /**
   * Set when idle closing closed windows: every window whose `end + grace` is at or below it is
   * closed, whatever stream time says, so a reading arriving later for it is late. Null otherwise.
   */
  closedThrough: number | null;
  /** Wall-clock ms when the latest reading was processed (for expiry and idle closing). */
  lastReadingAt: number;
}

/** Everything kept for one Kafka partition (`"<topic>-<partition>"`). */
export interface PartitionState<S> {
  partitionId: string;
  /** Largest event time seen in the partition (used by closing strategy "partition"). */
  streamTime: number | null;
  /**
   * Highest offset applied in this partition; -1 before any. A replayed record at or below it was
   * already applied (or found late, or dead-lettered) and is skipped: the replay guard. It is exact
   * because it is stored in the same write as the sensors it describes.
   */
  appliedOffset: number;
  /** The partition's sensors, by id. */
  sensors: ReadonlyMap<string, SensorState<S>>;
}

/** A fresh sensor, before its first reading. */
export const emptySensorState = <S>(sensor: string): SensorState<S> => ({
  sensor,
  streamTime: null,
  windows: [],
  closedThrough: null,
  lastReadingAt: 0,
});

export const emptyPartitionState = <S>(partitionId: string): PartitionState<S> => ({
  partitionId,
  streamTime: null,
  appliedOffset: -1,
  sensors: new Map(),
});
