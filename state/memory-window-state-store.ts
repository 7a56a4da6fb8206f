import type { SensorIndexes } from "../core/sensor-indexes.ts";
import type { PartitionState, SensorState } from "../core/window-state.ts";
import { StateConflictError } from "./errors.ts";
import type {
  Loaded,
  LoadedState,
  StateChanges,
  StateRequest,
  VersionedWrite,
  WindowStateStore,
} from "./window-state-store.ts";

interface Versioned<T> {
  value: T;
  version: number;
}

/**
 * Window state in process memory: for unit tests, benchmarks and `STATE_STORE=memory` demos.
 * State is lost with the process, so never use it behind a real Lambda trigger.
 * Values are kept by reference, not cloned: the window engine never modifies a state it was given
 * (it copies on write, see `applyRecords`), and cloning would dominate the cost of a batch.
 */
export class MemoryWindowStateStore<S> implements WindowStateStore<S> {
  readonly #sensors = new Map<string, Versioned<SensorState<S>>>();
  readonly #partitions = new Map<string, Versioned<PartitionState>>();
  readonly #indexes: SensorIndexes<S>;

  /** @param indexes what `findSensorsDue` and `findSensorsIdle` look at (see `sensorIndexesFor`). */
  constructor(indexes: SensorIndexes<S> = {}) {
    this.#indexes = indexes;
  }

  async load(request: StateRequest): Promise<LoadedState<S>> {
    return {
      partitions: loadFrom(this.#partitions, request.partitionIds),
      sensors: loadFrom(this.#sensors, request.sensorIds),
    };
  }

  async findSensorsDue(partitionId: string, streamTime: number): Promise<string[]> {
    const dueAt = this.#indexes.dueAt;
    if (dueAt === undefined) return [];
    return this.#sensorsWhere((s) => {
      const at = dueAt(s);
      return s.partitionId === partitionId && at !== null && at <= streamTime;
    });
  }

  async findSensorsIdle(now: number): Promise<string[]> {
    const idleAt = this.#indexes.idleAt;
    if (idleAt === undefined) return [];
    return this.#sensorsWhere((s) => {
      const at = idleAt(s);
      return at !== null && at <= now;
    });
  }

  // A scan, which is fine in memory: the DynamoDB store answers the same questions with indexes.
  #sensorsWhere(test: (s: SensorState<S>) => boolean): string[] {
    return [...this.#sensors.values()]
      .filter(({ value }) => test(value))
      .map(({ value }) => value.sensor);
  }

  async save(changes: StateChanges<S>): Promise<void> {
    // Check everything first, so a conflict leaves the store as it was.
    checkVersions(this.#sensors, changes.sensors, (s) => s.sensor);
    checkVersions(this.#partitions, changes.partitions, (p) => p.partitionId);
    for (const w of changes.sensors) put(this.#sensors, w.value.sensor, w);
    for (const w of changes.partitions) put(this.#partitions, w.value.partitionId, w);
  }

  /** Every sensor state, for tests and diagnostics. */
  sensorStates(): SensorState<S>[] {
    return [...this.#sensors.values()].map((v) => structuredClone(v.value));
  }
}

const loadFrom = <T>(items: Map<string, Versioned<T>>, ids: readonly string[]) => {
  const out = new Map<string, Loaded<T>>();
  for (const id of ids) {
    const item = items.get(id);
    out.set(
      id,
      item === undefined
        ? { value: undefined, version: 0 }
        : { value: item.value, version: item.version },
    );
  }
  return out;
};

const checkVersions = <T>(
  items: Map<string, Versioned<T>>,
  writes: readonly VersionedWrite<T>[],
  idOf: (value: T) => string,
) => {
  for (const w of writes) {
    const id = idOf(w.value);
    const current = items.get(id)?.version ?? 0;
    if (current !== w.expectedVersion) {
      throw new StateConflictError(
        `state of "${id}" changed underneath this batch (version ${current}, expected ${w.expectedVersion}); the batch will be retried`,
      );
    }
  }
};

const put = <T>(items: Map<string, Versioned<T>>, id: string, w: VersionedWrite<T>) => {
  items.set(id, { value: w.value, version: w.expectedVersion + 1 });
};
