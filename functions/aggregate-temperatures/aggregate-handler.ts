import { type DecodeOptions, decodeReading } from "../../core/decode-reading.ts";
import { partitionIdOf } from "../../core/reading.ts";
import {
  type AppliedBatch,
  applyRecords,
  type BatchItem,
  closeWindows,
  type WindowRules,
} from "../../core/window-engine.ts";
import { ClosingStrategy, type PartitionState, type SensorState } from "../../core/window-state.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Loaded, VersionedWrite, WindowStateStore } from "../../state/window-state-store.ts";
import { emitPendingWindows, type StoredSensor } from "../emit-pending-windows.ts";
import type { KafkaTriggerEvent, KafkaTriggerRecord } from "../kafka-trigger-event.ts";
import { deadLetterRecord, lateRecord } from "../output-records.ts";
import type { RecordSink } from "../record-sink.ts";

export interface OutputTopics {
  windows: string;
  late: string;
  deadLetters: string;
}

/** Everything the handler needs, injected: built once per cold start, or by a test. */
export interface AggregateDependencies<S, O> {
  rules: WindowRules<S, O>;
  decode: DecodeOptions;
  topics: OutputTopics;
  store: WindowStateStore<S>;
  sink: RecordSink;
  logger: Logger;
  /** Wall clock, ms. */
  now: () => number;
}

/** What one invocation did: logged, and returned to in-process callers (the harness, tests). */
export interface BatchSummary {
  records: number;
  aggregated: number;
  windowsClosed: number;
  late: number;
  deadLetters: number;
  duplicates: number;
}

interface DecodedItem extends BatchItem {
  record: KafkaTriggerRecord;
}

/**
 * Builds the `aggregate-temperatures` logic over injected dependencies.
 *
 * One invocation: decode every record; read the state of each partition and sensor in the batch
 * (one batched read, never one per record); apply the records in offset order; close the windows
 * stream time has passed; produce late readings and dead letters; write the new state, each item
 * conditional on the version read, with the closed windows stored as pending; produce the pending
 * windows; mark them emitted.
 *
 * What a crash at each point does to the retry (the trigger retries the whole batch on any error,
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html):
 * - before the state write: the batch is applied again from the old state, deterministically:
 *   same windows; late readings and dead letters may repeat (they carry their coordinates);
 * - after the state write, before the produce: the offset guard skips every record; the pending
 *   windows are produced from state;
 * - after the produce, before the mark: the same, so the windows go out again with the same
 *   `window-id`: the one duplicate a consumer may see;
 * - after the mark: nothing is produced again.
 */
export const createAggregateHandler = <S, O>(deps: AggregateDependencies<S, O>) => {
  const { rules, store, sink, topics, logger } = deps;

  return async (event: KafkaTriggerEvent): Promise<BatchSummary> => {
    const items: DecodedItem[] = [];
    const partitionIds = new Set<string>();
    const sensorIds = new Set<string>();
    const decodedKeys = new Map<string, string>();
    for (const records of Object.values(event.records)) {
      const first = records[0];
      if (first !== undefined) partitionIds.add(partitionIdOf(first));
      for (const record of records) {
        // A trigger record carries its own coordinates: it is the `source` as it is.
        const decoded = decodeReading(record, deps.decode, decodedKeys);
        if (decoded.ok) sensorIds.add(decoded.reading.sensor);
        items.push({ record, source: record, decoded });
      }
    }

    const { partitions: loadedPartitions, sensors: loadedSensors } = await store.load({
      partitionIds: [...partitionIds],
      sensorIds: [...sensorIds],
    });

    const applied = applyRecords(
      rules,
      items,
      valuesOf(loadedPartitions),
      valuesOf(loadedSensors),
      deps.now(),
    );
    const sensors = new Map(valuesOf(loadedSensors));
    for (const [id, s] of applied.sensors) sensors.set(id, s);
    if (rules.closing === ClosingStrategy.partition) {
      await loadSensorsDue(store, applied, sensors, loadedSensors);
    }
    const closed = closeWindows(rules, sensors.values(), applied.partitions);

    // Late readings and dead letters first: they are final the moment they are decided, and a
    // replay after the state write skips their records, so they must be out before it.
    await sink.send([
      { topic: topics.late, records: applied.late.map(lateRecord) },
      {
        topic: topics.deadLetters,
        records: applied.deadLetters.map((i) =>
          deadLetterRecord(i.record, i.decoded.reason, i.decoded.detail),
        ),
      },
    ]);

    const changedSensors = new Map(applied.sensors);
    for (const [id, s] of closed) changedSensors.set(id, s);
    const sensorWrites = writesFor(changedSensors, loadedSensors);
    await store.save({
      sensors: sensorWrites,
      partitions: writesFor(changedPartitions(applied, loadedPartitions), loadedPartitions),
    });

    // Then the windows whose closing is now stored, including any left pending by a crashed
    // earlier delivery of this batch.
    const stored = new Map<string, StoredSensor<S>>();
    for (const [id, l] of loadedSensors) {
      if (l.value !== undefined) stored.set(id, { value: l.value, version: l.version });
    }
    for (const w of sensorWrites) {
      stored.set(w.value.sensor, { value: w.value, version: w.expectedVersion + 1 });
    }
    const windowsClosed = await emitPendingWindows(
      rules,
      store,
      sink,
      topics.windows,
      stored.values(),
    );

    const summary: BatchSummary = {
      records: items.length,
      aggregated: applied.aggregated,
      windowsClosed,
      late: applied.late.length,
      deadLetters: applied.deadLetters.length,
      duplicates: applied.duplicates,
    };
    logger.info("batch processed", {
      ...summary,
      partitions: [...partitionIds],
      sensors: sensorIds.size,
    });
    for (const { decoded, source } of applied.deadLetters) {
      logger.warn("record dead-lettered", {
        reason: decoded.reason,
        detail: decoded.detail,
        topic: source.topic,
        partition: source.partition,
        offset: source.offset,
      });
    }
    return summary;
  };
};

/**
 * Closing "partition": sensors with no record in this batch can still have windows the partition's
 * stream time has passed. Find them through the store's index and read them (consistently).
 */
const loadSensorsDue = async <S>(
  store: WindowStateStore<S>,
  applied: AppliedBatch<S, BatchItem>,
  sensors: Map<string, SensorState<S>>,
  loaded: Map<string, Loaded<SensorState<S>>>,
): Promise<void> => {
  const due = new Set<string>();
  for (const p of applied.partitions.values()) {
    if (p.streamTime === null) continue;
    for (const id of await store.findSensorsDue(p.partitionId, p.streamTime)) {
      if (!loaded.has(id)) due.add(id);
    }
  }
  if (due.size === 0) return;
  const more = await store.load({ partitionIds: [], sensorIds: [...due] });
  for (const [id, l] of more.sensors) {
    loaded.set(id, l);
    if (l.value !== undefined) sensors.set(id, l.value);
  }
};

const changedPartitions = <S>(
  applied: AppliedBatch<S, BatchItem>,
  loaded: Map<string, Loaded<PartitionState>>,
): Map<string, PartitionState> => {
  const changed = new Map<string, PartitionState>();
  for (const [id, p] of applied.partitions) {
    if (p.appliedOffset !== (loaded.get(id)?.value?.appliedOffset ?? -1)) changed.set(id, p);
  }
  return changed;
};

const writesFor = <T>(
  changed: Map<string, T>,
  loaded: Map<string, Loaded<T>>,
): VersionedWrite<T>[] =>
  [...changed].map(([id, value]) => ({ value, expectedVersion: loaded.get(id)?.version ?? 0 }));

const valuesOf = <T>(loaded: Map<string, Loaded<T>>): Map<string, T> => {
  const out = new Map<string, T>();
  for (const [id, l] of loaded) if (l.value !== undefined) out.set(id, l.value);
  return out;
};
