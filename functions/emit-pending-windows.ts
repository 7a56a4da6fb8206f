import type { Aggregation } from "../core/aggregation.ts";
import { takePending, type WindowRules } from "../core/window-engine.ts";
import type { SensorState } from "../core/window-state.ts";
import type { WindowStateStore } from "../state/window-state-store.ts";
import { windowRecord } from "./output-records.ts";
import type { RecordSink } from "./record-sink.ts";

/** A sensor state as stored, with the version the next write must expect. */
export interface StoredSensor<S> {
  value: SensorState<S>;
  version: number;
}

/**
 * The second half of closing a window: produce every pending window of `sensors` to `topic`, then
 * store the sensors without them. Closing was already stored, so a crash before the produce
 * re-emits from state, and a crash between the produce and this write re-emits the same windows
 * with the same `window-id` (the one duplicate a consumer may see); after this write, nothing is
 * emitted again. Returns the number of windows emitted.
 */
export const emitPendingWindows = async <S, O>(
  rules: WindowRules<S, O>,
  store: WindowStateStore<S>,
  sink: RecordSink,
  topic: string,
  sensors: Iterable<StoredSensor<S>>,
): Promise<number> => {
  const aggregation = rules.aggregation as Aggregation<unknown, O>;
  const records = [];
  const marks = [];
  for (const { value, version } of sensors) {
    if (value.pending.length === 0) continue;
    const { windows, emptied } = takePending(rules, value);
    records.push(...windows.map((w) => windowRecord(w, aggregation)));
    marks.push({ value: emptied, expectedVersion: version });
  }
  if (records.length === 0) return 0;
  await sink.send([{ topic, records }]);
  await store.save({ sensors: marks, partitions: [] });
  return records.length;
};
