import { idleDueAt, type WindowRules } from "./window-engine.ts";
import { windowCloseTime } from "./window-spec.ts";
import { ClosingStrategy, nextCloseTime, type SensorState } from "./window-state.ts";

/**
 * The times by which a store indexes sensors, so that closing work is found without a scan.
 * Each is absent when its feature is off (no index maintained, nothing to pay).
 */
export interface SensorIndexes<S> {
  /** Closing "partition": the partition stream time at which the sensor has windows to close. */
  dueAt?: (sensor: SensorState<S>) => number | null;
  /** Idle closing: the wall-clock time from which the idle sweep should look at the sensor. */
  idleAt?: (sensor: SensorState<S>) => number | null;
}

/** The indexes the rules and the idle timeout (undefined = idle closing off) need. */
export const sensorIndexesFor = <S, O>(
  rules: WindowRules<S, O>,
  idleTimeoutMs: number | undefined,
): SensorIndexes<S> => {
  const indexes: SensorIndexes<S> = {};
  if (rules.closing === ClosingStrategy.partition) {
    indexes.dueAt = (sensor) =>
      nextCloseTime(sensor, (start) => windowCloseTime(start, rules.spec));
  }
  if (idleTimeoutMs !== undefined) {
    indexes.idleAt = (sensor) =>
      sensor.pending.length > 0 ? 0 : idleDueAt(rules, sensor, idleTimeoutMs);
  }
  return indexes;
};
