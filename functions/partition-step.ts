import type { BadRecordReasonCode } from "../core/decode-reading.ts";
import {
  type LateReading,
  partitionIdleDueAt,
  quietSensors,
  type WindowRules,
} from "../core/window-engine.ts";
import type { ClosedWindowState, PartitionState } from "../core/window-state.ts";
import { StateConflictError } from "../state/errors.ts";
import {
  CLAIM_LEASE_MS,
  type ClaimantName,
  mayEmit,
  type OutboxEntry,
  type PartitionStateStore,
  type StoredPartition,
} from "../state/window-state-store.ts";
import { OutputProduceError } from "./errors.ts";
import type { KafkaTriggerRecord } from "./kafka-trigger-event.ts";
import { closedWindowRecord, deadLetterRecord, lateRecord } from "./output-records.ts";
import type { RecordSink, TopicRecords } from "./record-sink.ts";

/** A bad record as kept until it is produced to the dead-letter topic: the record as delivered. */
export interface StoredDeadLetter {
  record: KafkaTriggerRecord;
  reason: BadRecordReasonCode;
  detail: string;
}

/** Everything one commit decided to produce. */
export interface WindowOutputs<S> {
  windows: ClosedWindowState<S>[];
  late: LateReading[];
  deadLetters: StoredDeadLetter[];
}

export type WindowStateStore<S> = PartitionStateStore<S, WindowOutputs<S>>;

export interface OutputTopics {
  windows: string;
  late: string;
  deadLetters: string;
}

/**
 * A warm sandbox's copy of the partitions it last committed, by partition id. Never trusted on its
 * own: every commit is conditional on the cached version, so a stale entry costs one conflict and
 * a re-read, never a wrong result. Lives for the sandbox's life (module level in the handler).
 */
export type PartitionCache<S> = Map<string, StoredPartition<S>>;

export interface PartitionStepDeps<S, O> {
  rules: WindowRules<S, O>;
  store: WindowStateStore<S>;
  sink: RecordSink;
  topics: OutputTopics;
  claimant: ClaimantName;
  /** Wall clock, ms. */
  now: () => number;
  cache?: PartitionCache<S> | undefined;
  /** Idle closing's timeout (undefined: off): the partition is indexed for the sweep. */
  idleTimeoutMs?: number | undefined;
  /** State of a sensor quiet for longer than this is dropped (undefined: kept). */
  retentionMs?: number | undefined;
  /**
   * Real-clock ms (`Date.now()`) by which the invocation must have finished (its timeout, less a
   * margin): the mark is insisted on until then (undefined: {@link MARK_ATTEMPTS} attempts).
   */
  deadline?: number | undefined;
}

/** What a step decided for a partition's state. */
export interface PartitionChange<S> {
  state: PartitionState<S>;
  changed: ReadonlySet<string>;
  outputs: WindowOutputs<S>;
}

export interface EmittedCounts {
  windows: number;
  late: number;
  deadLetters: number;
}

/** A conflict is another invocation's commit: re-read and redo, a few times, before giving up. */
const CONFLICT_ATTEMPTS = 5;
/**
 * A mark that fails after the outputs went out would make the retry repeat them: insist, until the
 * invocation's deadline when it is known (a throttle shorter than the function's timeout repeats
 * nothing), else this many attempts (~5 s).
 */
const MARK_ATTEMPTS = 12;

/**
 * One unit of work on one partition, in the order that makes retries harmless: **decide** (from
 * the cached or stored state), **store** (one conditional commit holding the new state and the
 * outputs decided), **emit** (produce those outputs, and any an earlier invocation of the same kind
 * committed but did not confirm), **mark** (remove them from the outbox).
 *
 * What a failure at each point does (the trigger retries the whole batch,
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html):
 * - before or during the commit (a conflict, a throttle, a crash): nothing was stored and nothing
 *   produced; a conflict is redone here from a fresh read, anything else by the retry;
 * - after the commit, before the produce: the retry's records are at or below the applied offset
 *   and are skipped; the outbox entry is found and produced then;
 * - during the produce (a request kafkajs gave up on): what was acknowledged before it is stored
 *   (`markEmitted` for whole entries, `markProduced` for part of one) and the retry produces the
 *   rest; only a crash before that is stored, or a request that landed in part, repeats outputs;
 * - after the produce, before the mark: a crash, or a mark failing until the invocation's deadline
 *   (a throttle is retried until then), makes the retry produce the same outputs again (same
 *   `window-id`, same source coordinates): the one duplicate a consumer may see;
 * - after the mark: nothing is produced again.
 *
 * `decide` may run more than once (after a conflict); it returns undefined when nothing changes.
 */
export const runPartitionStep = async <S, O>(
  deps: PartitionStepDeps<S, O>,
  partitionId: string,
  decide: (state: PartitionState<S>) => PartitionChange<S> | undefined,
): Promise<EmittedCounts> => {
  try {
    for (let attempt = 1; ; attempt++) {
      const loaded = deps.cache?.get(partitionId) ?? (await deps.store.load(partitionId));
      try {
        return await commitAndEmit(deps, partitionId, loaded, decide(loaded.state));
      } catch (error) {
        deps.cache?.delete(partitionId);
        if (!(error instanceof StateConflictError) || attempt >= CONFLICT_ATTEMPTS) throw error;
        await jitter(attempt);
      }
    }
  } catch (error) {
    deps.cache?.delete(partitionId);
    throw error;
  }
};

const commitAndEmit = async <S, O>(
  deps: PartitionStepDeps<S, O>,
  partitionId: string,
  loaded: StoredPartition<S>,
  change: PartitionChange<S> | undefined,
): Promise<EmittedCounts> => {
  const now = deps.now();
  let after: StoredPartition<S> = loaded;
  const own = new Map<number, WindowOutputs<S>>();
  if (change !== undefined) {
    const state = withoutQuietSensors(change.state, deps.retentionMs, now);
    const outputs = hasOutputs(change.outputs)
      ? { payload: change.outputs, claimedBy: deps.claimant, claimedAt: now }
      : undefined;
    const committed = await deps.store.commit(partitionId, {
      expectedVersion: loaded.version,
      state: state.state,
      changed: change.changed,
      removed: state.removed,
      ...(outputs === undefined ? {} : { outputs }),
      idleAt: idleIndexTime(deps, state.state, [
        ...loaded.outbox,
        ...(outputs === undefined ? [] : [{ claimedAt: now }]),
      ]),
    });
    after = { state: state.state, version: committed.version, outbox: committed.outbox };
    if (outputs !== undefined) own.set(committed.version, change.outputs);
  }
  const emitted = await emitOutbox(deps, partitionId, after, own, now);
  deps.cache?.set(partitionId, emitted.remaining);
  return emitted.counts;
};

/** Produces the outbox entries this claimant may emit, oldest first, then marks them emitted. */
const emitOutbox = async <S, O>(
  deps: PartitionStepDeps<S, O>,
  partitionId: string,
  partition: StoredPartition<S>,
  own: Map<number, WindowOutputs<S>>,
  now: number,
): Promise<{ counts: EmittedCounts; remaining: StoredPartition<S> }> => {
  const entries = partition.outbox.filter((e) => own.has(e.seq) || mayEmit(e, deps.claimant, now));
  const counts: EmittedCounts = { windows: 0, late: 0, deadLetters: 0 };
  if (entries.length === 0) return { counts, remaining: partition };
  const theirs = entries.filter((e) => !own.has(e.seq));
  const stored =
    theirs.length === 0 ? new Map() : await deps.store.readOutputs(partitionId, theirs);
  const sending: Sending[] = [];
  for (const entry of entries) {
    const outputs = own.get(entry.seq) ?? stored.get(entry.seq);
    if (outputs === undefined) continue; // its outputs expired with the retention: nothing to send
    sending.push({ entry, batches: withoutFirst(outputRecords(deps, outputs), entry.produced) });
    counts.windows += outputs.windows.length;
    counts.late += outputs.late.length;
    counts.deadLetters += outputs.deadLetters.length;
  }
  try {
    await deps.sink.send(sending.flatMap((s) => s.batches));
  } catch (error) {
    await rememberProduced(deps, partitionId, partition, sending, error);
    throw error;
  }
  const remaining = await markDone(deps, partitionId, partition, entries);
  return { counts, remaining };
};

/**
 * Marks `entries` emitted (insisting: see MARK_ATTEMPTS), re-indexing the partition for the sweep
 * by what is left; returns the partition without them.
 */
const markDone = async <S, O>(
  deps: PartitionStepDeps<S, O>,
  partitionId: string,
  partition: StoredPartition<S>,
  entries: readonly OutboxEntry[],
): Promise<StoredPartition<S>> => {
  const done = new Set(entries.map((e) => e.seq));
  const remaining = { ...partition, outbox: partition.outbox.filter((e) => !done.has(e.seq)) };
  const idleAt = idleIndexTime(deps, partition.state, remaining.outbox);
  await insist(
    () => deps.store.markEmitted(partitionId, [...done], { version: partition.version, idleAt }),
    deps.deadline,
  );
  return remaining;
};

/** An outbox entry on its way out: the records still to produce. */
interface Sending {
  entry: OutboxEntry;
  batches: TopicRecords[];
}

/**
 * After a produce that failed part-way, stores what went out (entries whole, then how much of the
 * next), so that the retry produces only the rest: a failure is then no reason for a duplicate.
 * Only a crash before this is stored, or a request that landed in part (kafkajs gave up on it),
 * still repeats outputs. Best effort: if the store refuses, the retry repeats them, as before.
 */
const rememberProduced = async <S, O>(
  deps: PartitionStepDeps<S, O>,
  partitionId: string,
  partition: StoredPartition<S>,
  sending: readonly Sending[],
  error: unknown,
): Promise<void> => {
  let sent = error instanceof OutputProduceError ? error.sentRecords : 0;
  const whole: OutboxEntry[] = [];
  let part: { seq: number; produced: number } | undefined;
  for (const { entry, batches } of sending) {
    const records = recordCount(batches);
    if (sent >= records) whole.push(entry);
    else if (sent > 0) part = { seq: entry.seq, produced: entry.produced + sent };
    sent = Math.max(0, sent - records);
    if (sent === 0) break;
  }
  try {
    if (whole.length > 0) await markDone(deps, partitionId, partition, whole);
    if (part !== undefined) {
      const { seq, produced } = part;
      await insist(() => deps.store.markProduced(partitionId, seq, produced), deps.deadline);
    }
  } catch {
    // Left unrecorded, what went out goes out again with the retry, each output with its identity.
  }
};

const recordCount = (batches: readonly TopicRecords[]): number =>
  batches.reduce((n, b) => n + b.records.length, 0);

/** `batches` without their first `skip` records, in order. */
const withoutFirst = (batches: TopicRecords[], skip: number): TopicRecords[] => {
  if (skip <= 0) return batches;
  let left = skip;
  return batches.map(({ topic, records }) => {
    const dropped = Math.min(left, records.length);
    left -= dropped;
    return { topic, records: records.slice(dropped) };
  });
};

/** The records of one commit's outputs: windows, then late readings, then dead letters. */
const outputRecords = <S, O>(
  deps: PartitionStepDeps<S, O>,
  outputs: WindowOutputs<S>,
): TopicRecords[] => {
  return [
    {
      topic: deps.topics.windows,
      records: outputs.windows.map((w) => closedWindowRecord(deps.rules, w)),
    },
    { topic: deps.topics.late, records: outputs.late.map(lateRecord) },
    {
      topic: deps.topics.deadLetters,
      records: outputs.deadLetters.map((d) => deadLetterRecord(d.record, d.reason, d.detail)),
    },
  ];
};

/**
 * When the idle sweep should look at the partition: its sensors' earliest idle time, or sooner
 * when an outbox entry's claim will have lapsed (so a crashed invocation's outputs go out even if
 * nothing else happens). Null when idle closing is off.
 */
const idleIndexTime = <S, O>(
  deps: PartitionStepDeps<S, O>,
  state: PartitionState<S>,
  outbox: readonly Pick<OutboxEntry, "claimedAt">[],
): number | null => {
  if (deps.idleTimeoutMs === undefined) return null;
  let at = partitionIdleDueAt(deps.rules, state, deps.idleTimeoutMs);
  for (const entry of outbox) {
    const lapses = entry.claimedAt + CLAIM_LEASE_MS;
    if (at === null || lapses < at) at = lapses;
  }
  return at;
};

const withoutQuietSensors = <S>(
  state: PartitionState<S>,
  retentionMs: number | undefined,
  now: number,
): { state: PartitionState<S>; removed: string[] } => {
  if (retentionMs === undefined) return { state, removed: [] };
  const removed = quietSensors(state, now - retentionMs);
  if (removed.length === 0) return { state, removed };
  const sensors = new Map(state.sensors);
  for (const id of removed) sensors.delete(id);
  return { state: { ...state, sensors }, removed };
};

const hasOutputs = <S>(o: WindowOutputs<S>): boolean =>
  o.windows.length + o.late.length + o.deadLetters.length > 0;

/**
 * Retries a retryable failure with backoff, until the deadline (when known) or MARK_ATTEMPTS
 * attempts; the last failure is thrown.
 */
const insist = async (work: () => Promise<void>, deadline: number | undefined): Promise<void> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const retryable = (error as { retryable?: boolean }).retryable === true;
      // The deadline is the real clock's (the function timeout), not the logic's `now`.
      const outOfTime =
        deadline === undefined ? attempt >= MARK_ATTEMPTS : Date.now() + MAX_JITTER_MS >= deadline;
      if (!retryable || outOfTime) throw error;
      await jitter(attempt);
    }
  }
};

const MAX_JITTER_MS = 1_000;
const jitter = (attempt: number) =>
  new Promise((resolve) =>
    setTimeout(resolve, Math.min(MAX_JITTER_MS, 10 * 2 ** attempt) * (0.5 + Math.random() / 2)),
  );
