import { closeIdleWindows, overlay, type WindowRules } from "../../core/window-engine.ts";
import type { PartitionState } from "../../core/window-state.ts";
import type { Logger } from "../../lib/logger.ts";
import { Claimant } from "../../state/window-state-store.ts";
import {
  type OutputTopics,
  type PartitionChange,
  runPartitionStep,
  type WindowStateStore,
} from "../partition-step.ts";
import type { RecordSink } from "../record-sink.ts";

export interface SweepDependencies<S, O> {
  rules: WindowRules<S, O>;
  store: WindowStateStore<S>;
  sink: RecordSink;
  topics: OutputTopics;
  /** Wall-clock quiet time after which a sensor's windows close. */
  idleTimeoutMs: number;
  logger: Logger;
  /** Wall clock, ms. */
  now: () => number;
}

export interface SweepSummary {
  partitionsDue: number;
  windowsClosed: number;
  windowsEmitted: number;
}

/**
 * Builds `sweep-idle-windows`: finds the partitions whose sensors may have gone quiet through the
 * store's idle index (never a scan), closes the windows of every sensor quiet for the idle timeout
 * whose `end + grace` the wall clock has passed, and commits, emits and marks them exactly as the
 * aggregate function does (`runPartitionStep`, as claimant "sweep").
 *
 * The decision is committed before anything is emitted, conditional on the version read: a batch
 * racing the sweep on the same partition makes one of them re-read and redo, never both emit. A
 * reading that arrives later for a window closed this way is late.
 */
export const createSweepHandler = <S, O>(deps: SweepDependencies<S, O>) => {
  const { logger } = deps;
  return async (): Promise<SweepSummary> => {
    const now = deps.now();
    const due = await deps.store.findPartitionsIdle(now);
    const summary: SweepSummary = {
      partitionsDue: due.length,
      windowsClosed: 0,
      windowsEmitted: 0,
    };
    for (const partitionId of due) {
      let closed = 0;
      const decide = (state: PartitionState<S>): PartitionChange<S> | undefined => {
        const closing = closeIdleWindows(
          deps.rules,
          state.sensors.values(),
          now,
          deps.idleTimeoutMs,
        );
        closed = closing.closed.length;
        if (closing.sensors.size === 0) return undefined;
        return {
          state: { ...state, sensors: overlay(state.sensors, closing.sensors) },
          changed: new Set(closing.sensors.keys()),
          outputs: { windows: closing.closed, late: [], deadLetters: [] },
        };
      };
      const emitted = await runPartitionStep(
        { ...deps, claimant: Claimant.sweep, now: () => now },
        partitionId,
        decide,
      );
      summary.windowsClosed += closed;
      summary.windowsEmitted += emitted.windows;
    }
    if (summary.partitionsDue > 0) logger.info("idle sweep done", { ...summary });
    return summary;
  };
};
