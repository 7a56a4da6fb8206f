import type { PartitionState } from "../core/window-state.ts";

/**
 * Who committed an outbox entry, and so who emits it. At most one batch of a partition is in
 * flight at a time (the Kafka trigger keeps a partition's order), and the idle sweep runs one at a
 * time (reserved concurrency 1), so an entry left by a batch is a crashed batch's, for the next
 * batch to emit, and one left by the sweep the next sweep's; the other kind takes it over only once
 * its claim is older than any invocation can run ({@link CLAIM_LEASE_MS}).
 */
export const Claimant = { batch: "batch", sweep: "sweep" } as const;
export type ClaimantName = (typeof Claimant)[keyof typeof Claimant];

/**
 * Lambda's longest timeout (15 minutes): an invocation that claimed an entry longer ago than this
 * has ended, whatever happened to it.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
 */
export const CLAIM_LEASE_MS = 15 * 60_000;

/**
 * Outputs a commit decided (closed windows, late readings, dead letters) that are not yet confirmed
 * produced: "decide, store, emit, mark". `seq` is the version the commit created.
 */
export interface OutboxEntry {
  seq: number;
  claimedBy: ClaimantName;
  claimedAt: number;
  /** Where the store keeps the outputs (store-defined). */
  ref: string;
  /**
   * How many of its outputs, in output order, are known produced: a produce that failed part-way
   * left them out, and the next emit starts after them. 0 when none (or unknown).
   */
  produced: number;
}

/** A partition's state as stored, with the version a commit must expect (0: never written). */
export interface StoredPartition<S> {
  state: PartitionState<S>;
  version: number;
  /** Outputs committed and not yet marked emitted, oldest first. */
  outbox: OutboxEntry[];
}

/** One atomic change of a partition: its new state and the outputs that change decided. */
export interface PartitionCommit<S, X> {
  /** The version read; the commit fails with a `StateConflictError` if it no longer holds. */
  expectedVersion: number;
  /** The partition's whole new state. */
  state: PartitionState<S>;
  /** Sensors whose state differs from the expected version's (a store may write only those). */
  changed: ReadonlySet<string>;
  /** Sensors dropped from the state since the expected version. */
  removed: readonly string[];
  /** The outputs this change decided, to keep until marked emitted; undefined when none. */
  outputs?: { payload: X; claimedBy: ClaimantName; claimedAt: number };
  /** When the idle sweep should look at the partition (wall clock); null: never. */
  idleAt: number | null;
}

export interface CommitResult {
  /** The version the commit created (the `seq` of its outbox entry, if any). */
  version: number;
  /** Every outbox entry of the partition after the commit, its own included, oldest first. */
  outbox: OutboxEntry[];
}

/**
 * The get/put primitives the window functions need, per Kafka partition; all window logic lives in
 * `core/`.
 *
 * Exactly-once effect under at-least-once delivery comes from one rule: a partition's state (its
 * sensors' windows and the offset it has applied) changes only through `commit`, atomically and
 * conditionally on the version that was read. A replayed record is at or below the applied offset
 * and is skipped; two deliveries racing can't both apply; whatever the event holds (one partition
 * or many, five sensors or a hundred thousand), no offset is ever stored without its readings.
 */
export interface PartitionStateStore<S, X> {
  /** A strongly consistent read of the partition's state and outbox. */
  load(partitionId: string): Promise<StoredPartition<S>>;
  /** Writes `change` if the partition is still at `expectedVersion`, else `StateConflictError`. */
  commit(partitionId: string, change: PartitionCommit<S, X>): Promise<CommitResult>;
  /** The outputs of outbox entries, by `seq`. */
  readOutputs(partitionId: string, entries: readonly OutboxEntry[]): Promise<Map<number, X>>;
  /**
   * Removes entries from the outbox once their outputs are produced. Idempotent; does not change
   * the version (a mark never conflicts with a commit). `idleAt` re-indexes the partition for the
   * sweep when it is still at `version`.
   */
  markEmitted(partitionId: string, seqs: readonly number[], after: MarkedAt): Promise<void>;
  /**
   * Records that the first `produced` outputs of entry `seq` went out (a produce that failed
   * part-way), so that the next emit does not repeat them. Idempotent; does not change the version;
   * nothing when the entry is gone (marked emitted).
   */
  markProduced(partitionId: string, seq: number, produced: number): Promise<void>;
  /**
   * Partitions whose `idleAt` is at or before `now`. Found through an index, never a scan; may lag
   * behind recent writes, so callers load what it returns and decide from that.
   */
  findPartitionsIdle(now: number): Promise<string[]>;
}

/** What a mark knows of the partition: the version it saw, and its idle time then. */
export interface MarkedAt {
  version: number;
  idleAt: number | null;
}

/** May `claimant` emit `entry` at `now`? Its own kind's entries, or anybody's past the lease. */
export const mayEmit = (entry: OutboxEntry, claimant: ClaimantName, now: number): boolean =>
  entry.claimedBy === claimant || entry.claimedAt + CLAIM_LEASE_MS <= now;
