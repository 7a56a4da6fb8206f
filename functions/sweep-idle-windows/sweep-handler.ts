import { closeIdleWindows, type WindowRules } from "../../core/window-engine.ts";
import type { SensorState } from "../../core/window-state.ts";
import type { Logger } from "../../lib/logger.ts";
import type { VersionedWrite, WindowStateStore } from "../../state/window-state-store.ts";
import { emitPendingWindows, type StoredSensor } from "../emit-pending-windows.ts";
import type { RecordSink } from "../record-sink.ts";

export interface SweepDependencies<S, O> {
  rules: WindowRules<S, O>;
  store: WindowStateStore<S>;
  sink: RecordSink;
  windowsTopic: string;
  /** Wall-clock quiet time after which a sensor's windows close. */
  idleTimeoutMs: number;
  logger: Logger;
  /** Wall clock, ms. */
  now: () => number;
}

export interface SweepSummary {
  sensorsIdle: number;
  windowsClosed: number;
  windowsEmitted: number;
}

/** How many idle sensors one sweep reads and writes at a time: bounds memory and a conflict's reach. */
const SWEEP_CHUNK = 1_000;

/**
 * Builds `sweep-idle-windows`: finds sensors quiet for the idle timeout through the store's idle
 * index (never a scan), closes their windows whose `end + grace` the wall clock has passed, stores
 * that decision (conditional on the version read, so a racing batch and the sweep can't both win),
 * then emits the windows and marks them emitted, exactly as the aggregate function does.
 *
 * The decision is stored before anything is emitted: a reading that arrives later for a window
 * closed this way is late, and replaying old batches emits nothing (their offsets are applied).
 */
export const createSweepHandler = <S, O>(deps: SweepDependencies<S, O>) => {
  const { rules, store, logger } = deps;
  return async (): Promise<SweepSummary> => {
    const now = deps.now();
    const idle = await store.findSensorsIdle(now);
    const summary: SweepSummary = { sensorsIdle: idle.length, windowsClosed: 0, windowsEmitted: 0 };
    for (let i = 0; i < idle.length; i += SWEEP_CHUNK) {
      const { sensors } = await store.load({
        partitionIds: [],
        sensorIds: idle.slice(i, i + SWEEP_CHUNK),
      });
      const writes: VersionedWrite<SensorState<S>>[] = [];
      const stored: StoredSensor<S>[] = [];
      for (const { value, version } of sensors.values()) {
        if (value === undefined) continue;
        const closed = closeIdleWindows(rules, value, now, deps.idleTimeoutMs);
        if (closed === undefined) {
          stored.push({ value, version }); // may still hold windows pending from a crash
          continue;
        }
        summary.windowsClosed += closed.pending.length - value.pending.length;
        writes.push({ value: closed, expectedVersion: version });
        stored.push({ value: closed, version: version + 1 });
      }
      await store.save({ sensors: writes, partitions: [] });
      summary.windowsEmitted += await emitPendingWindows(
        rules,
        store,
        deps.sink,
        deps.windowsTopic,
        stored,
      );
    }
    if (summary.sensorsIdle > 0) logger.info("idle sweep done", { ...summary });
    return summary;
  };
};
