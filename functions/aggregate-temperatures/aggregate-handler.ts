import { type DecodeOptions, decodeReading } from "../../core/decode-reading.ts";
import { partitionIdOf } from "../../core/reading.ts";
import { applyBatch, type BatchItem, type WindowRules } from "../../core/window-engine.ts";
import type { PartitionState } from "../../core/window-state.ts";
import type { Logger } from "../../lib/logger.ts";
import { Claimant } from "../../state/window-state-store.ts";
import type { KafkaTriggerEvent, KafkaTriggerRecord } from "../kafka-trigger-event.ts";
import {
  type OutputTopics,
  type PartitionCache,
  type PartitionChange,
  runPartitionStep,
  type WindowStateStore,
} from "../partition-step.ts";
import type { RecordSink } from "../record-sink.ts";

export type { OutputTopics } from "../partition-step.ts";

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
  /** The warm sandbox's partitions (see `PartitionCache`); none: every batch reads the store. */
  cache?: PartitionCache<S> | undefined;
  /** Idle closing's timeout, ms (undefined: off); partitions are then indexed for the sweep. */
  idleTimeoutMs?: number | undefined;
  /** How long a quiet sensor's state is kept, ms (undefined: forever). */
  retentionMs?: number | undefined;
  /** When the invocation must be done by (`invocationDeadline`); undefined: no Lambda context. */
  deadline?: number | undefined;
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
 * One invocation: the event's records are grouped by partition (Lambda may put several partitions
 * in one event, https://docs.aws.amazon.com/lambda/latest/dg/with-msk-configure.html), and each
 * partition is one `runPartitionStep`: decode its records, apply them to the partition's state in
 * offset order, close the windows stream time has passed, commit the new state together with the
 * outputs decided (closed windows, late readings, dead letters), produce them, mark them produced.
 * Partitions are independent: each commits atomically on its own, so a failure in one never
 * leaves another half-written, and the retry skips what a committed partition already applied.
 * See `runPartitionStep` for what a crash at each point does.
 */
export const createAggregateHandler = <S, O>(deps: AggregateDependencies<S, O>) => {
  const decodedKeys = new SensorIdCache();
  return async (event: KafkaTriggerEvent): Promise<BatchSummary> => {
    decodedKeys.trim();
    const partitions = Object.values(event.records).filter((records) => records.length > 0);
    const outcomes = await Promise.allSettled(
      partitions.map((records) => aggregatePartition(deps, records, decodedKeys)),
    );
    const failed = outcomes.find((o) => o.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    const summaries = outcomes.map((o) => (o as PromiseFulfilledResult<BatchSummary>).value);
    const summary = sumOf(summaries);
    deps.logger.info("batch processed", {
      ...summary,
      partitions: partitions.map((records) => partitionIdOf(records[0] as KafkaTriggerRecord)),
    });
    return summary;
  };
};

/** One partition's records through decide, store, emit, mark. */
const aggregatePartition = async <S, O>(
  deps: AggregateDependencies<S, O>,
  records: readonly KafkaTriggerRecord[],
  decodedKeys: Map<string, string>,
): Promise<BatchSummary> => {
  const items: DecodedItem[] = records.map((record) => ({
    record,
    // A trigger record carries its own coordinates: it is the `source` as it is.
    source: record,
    decoded: decodeReading(record, deps.decode, decodedKeys),
  }));
  const partitionId = partitionIdOf(records[0] as KafkaTriggerRecord);
  const summary: BatchSummary = { ...emptySummary(), records: items.length };
  const decide = (state: PartitionState<S>): PartitionChange<S> | undefined => {
    const applied = applyBatch(deps.rules, state, items, deps.now());
    summary.aggregated = applied.aggregated;
    summary.duplicates = applied.duplicates;
    if (applied.partition.appliedOffset === state.appliedOffset) return undefined;
    for (const { decoded, source } of applied.deadLetters) {
      deps.logger.warn("record dead-lettered", {
        reason: decoded.reason,
        detail: decoded.detail,
        topic: source.topic,
        partition: source.partition,
        offset: source.offset,
      });
    }
    return {
      state: applied.partition,
      changed: applied.changed,
      outputs: {
        windows: applied.closed,
        late: applied.late,
        deadLetters: applied.deadLetters.map(({ record, decoded }) => ({
          record,
          reason: decoded.reason,
          detail: decoded.detail,
        })),
      },
    };
  };
  const emitted = await runPartitionStep(
    { ...deps, claimant: Claimant.batch },
    partitionId,
    decide,
  );
  return {
    ...summary,
    windowsClosed: emitted.windows,
    late: emitted.late,
    deadLetters: emitted.deadLetters,
  };
};

/**
 * Decoded keys (base64 → sensor id), kept for the sandbox's life rather than one event's: a fleet
 * of thousands of sensors sends each of them about once per batch, so a per-event cache would
 * decode nearly every key. Bounded: emptied between events once it holds more than
 * {@link MAX_CACHED_SENSOR_IDS}, a few MB at most.
 */
class SensorIdCache extends Map<string, string> {
  trim(): void {
    if (this.size > MAX_CACHED_SENSOR_IDS) this.clear();
  }
}

const MAX_CACHED_SENSOR_IDS = 50_000;

const emptySummary = (): BatchSummary => ({
  records: 0,
  aggregated: 0,
  windowsClosed: 0,
  late: 0,
  deadLetters: 0,
  duplicates: 0,
});

const sumOf = (summaries: readonly BatchSummary[]): BatchSummary => {
  const total = emptySummary();
  for (const s of summaries) {
    for (const key of Object.keys(total) as (keyof BatchSummary)[]) total[key] += s[key];
  }
  return total;
};
