/**
 * The state the window engine keeps between batches, in plain JSON-able objects. Stores persist
 * these as they are; the engine never sees how.
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

/** A window whose closing is decided and stored, but whose emission is not yet confirmed. */
export interface PendingWindow<S> extends OpenWindow<S> {
  closedBy: ClosedByName;
}

/** Everything kept for one sensor: bounded by the number of open windows, never by history. */
export interface SensorState<S> {
  sensor: string;
  /** Largest event time seen for this sensor; null before the first reading. */
  streamTime: number | null;
  /**
   * Highest offset processed for this sensor, per `"<topic>-<partition>"`. A replayed record at or
   * below it was already applied (or found late) and is skipped: this is the replay guard.
   */
  appliedOffsets: Record<string, number>;
  /** Open windows, oldest first. */
  windows: OpenWindow<S>[];
  /**
   * Closed windows not yet confirmed emitted, oldest first. Closing is stored before emitting, so
   * a crash in between re-emits them (same window ids) instead of losing or changing them.
   */
  pending: PendingWindow<S>[];
  /**
   * Set when idle closing closed windows: every window whose `end + grace` is at or below it is
   * closed, whatever stream time says, so a reading arriving later for it is late. Null otherwise.
   */
  closedThrough: number | null;
  /** The partition of the sensor's latest reading: whose stream time closes it under "partition". */
  partitionId: string;
  /** Wall-clock ms when the latest reading was processed (for expiry and idle closing). */
  lastReadingAt: number;
}

/** What is kept per Kafka partition. */
export interface PartitionState {
  partitionId: string;
  /** Largest event time seen in the partition (used by closing strategy "partition"). */
  streamTime: number | null;
  /** Highest offset processed in this partition; -1 before any. Replays at or below are skipped. */
  appliedOffset: number;
}

/** A fresh sensor, before its first reading. */
export const emptySensorState = <S>(sensor: string, partitionId: string): SensorState<S> => ({
  sensor,
  streamTime: null,
  appliedOffsets: {},
  windows: [],
  pending: [],
  closedThrough: null,
  partitionId,
  lastReadingAt: 0,
});

export const emptyPartitionState = (partitionId: string): PartitionState => ({
  partitionId,
  streamTime: null,
  appliedOffset: -1,
});

/**
 * When a sensor next needs closing work: 0 when it has pending windows (emit them now), else the
 * close time of its oldest open window, or null when nothing is open. What a due-window index
 * sorts by.
 */
export const nextCloseTime = <S>(
  state: SensorState<S>,
  closeTimeOf: (start: number) => number,
): number | null => {
  if (state.pending.length > 0) return 0;
  const first = state.windows[0];
  return first === undefined ? null : closeTimeOf(first.start);
};
