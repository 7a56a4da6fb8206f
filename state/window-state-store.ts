import type { PartitionState, SensorState } from "../core/window-state.ts";

/**
 * A stored item as read: its value (undefined when absent or expired) and the version a write must
 * expect. Version 0 means "never written".
 */
export interface Loaded<T> {
  value: T | undefined;
  version: number;
}

/** A new value, written only if the stored version is still `expectedVersion`. */
export interface VersionedWrite<T> {
  value: T;
  expectedVersion: number;
}

export interface StateRequest {
  partitionIds: readonly string[];
  sensorIds: readonly string[];
}

export interface LoadedState<S> {
  partitions: Map<string, Loaded<PartitionState>>;
  sensors: Map<string, Loaded<SensorState<S>>>;
}

export interface StateChanges<S> {
  sensors: VersionedWrite<SensorState<S>>[];
  partitions: VersionedWrite<PartitionState>[];
}

/**
 * The get/put primitives the aggregate function needs; all window logic lives in `core/`.
 *
 * Exactly-once effect under at-least-once delivery comes from two things together: every state
 * item carries the Kafka offsets it has applied (so a replayed record is skipped), and every write
 * is conditional on the version that was read (so two deliveries racing can't both apply).
 */
export interface WindowStateStore<S> {
  /**
   * Strongly consistent reads of the partitions' and sensors' states, batched together (DynamoDB:
   * one BatchGetItem per 100 items). Every requested id gets an entry.
   */
  load(request: StateRequest): Promise<LoadedState<S>>;
  /**
   * Sensors last seen in `partitionId` whose oldest open window closes at or before `streamTime`
   * (closing strategy "partition"). Found through an index, never a scan. May lag behind recent
   * writes; callers re-read what it returns and decide from that.
   */
  findSensorsDue(partitionId: string, streamTime: number): Promise<string[]>;
  /**
   * Sensors whose idle time (`SensorIndexes.idleAt`) is at or before `now` (idle closing). Found
   * through an index, never a scan; may lag behind recent writes, so callers re-read.
   */
  findSensorsIdle(now: number): Promise<string[]>;
  /**
   * Writes sensors first, then partitions (a partition's offset never runs ahead of its
   * sensors'). Throws a `StateConflictError` (retryable) when any expected version no longer holds;
   * writes made before the conflict stay, and the replay guard makes the retry repair them.
   */
  save(changes: StateChanges<S>): Promise<void>;
}
