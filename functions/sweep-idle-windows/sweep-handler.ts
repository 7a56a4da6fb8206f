import { closeIdleWindows, overlay, type WindowRules } from "../../core/window-engine.ts";
import type { PartitionState } from "../../core/window-state.ts";
import type { Logger } from "../../lib/logger.ts";
import { Claimant } from "../../state/window-state-store.ts";
import { SweepPartitionsError } from "../errors.ts";
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
  /** When the invocation must be done by (`invocationDeadline`); undefined: no Lambda context. */
  deadline?: number | undefined;
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
    const failed: { partitionId: string; error: unknown }[] = [];
    // Partitions one by one, each on its own: one that keeps failing (its outputs refused, its
    // state unreadable) must not stop idle closing for the others behind it in the index.
    for (const partitionId of due) {
      try {
        const swept = await sweepPartition(deps, partitionId, now);
        summary.windowsClosed += swept.closed;
        summary.windowsEmitted += swept.emitted;
      } catch (error) {
        failed.push({ partitionId, error });
        logger.error("idle sweep of a partition failed; the others go on", { partitionId, error });
      }
    }
    if (summary.partitionsDue > 0) logger.info("idle sweep done", { ...summary });
    if (failed.length > 0) throw new SweepPartitionsError(failed);
    return summary;
  };
};

/** Closes one partition's idle windows, then commits, emits and marks them as claimant "sweep". */
const sweepPartition = async <S, O>(
  deps: SweepDependencies<S, O>,
  partitionId: string,
  now: number,
): Promise<{ closed: number; emitted: number }> => {
  let closed = 0;
  const decide = (state: PartitionState<S>): PartitionChange<S> | undefined => {
    const closing = closeIdleWindows(deps.rules, state.sensors.values(), now, deps.idleTimeoutMs);
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
  return { closed, emitted: emitted.windows };
};
