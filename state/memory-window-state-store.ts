import { emptyPartitionState, type PartitionState } from "../core/window-state.ts";
import { StateConflictError } from "./errors.ts";
import type {
  CommitResult,
  MarkedAt,
  OutboxEntry,
  PartitionCommit,
  PartitionStateStore,
  StoredPartition,
} from "./window-state-store.ts";

/**
 * The name a harness knows this store's factory by: functions running in its sandboxes ask for a
 * shared in-memory store by it (`lib/shared-instance.ts`).
 */
export const MEMORY_WINDOW_STATE_STORE = "memory-window-state-store";

interface Held<S, X> {
  stored: StoredPartition<S>;
  outputs: Map<number, X>;
  idleAt: number | null;
}

/**
 * Window state in process memory: for unit tests, benchmarks and `STATE_STORE=memory` demos.
 * State is lost with the process, so never use it behind a real Lambda trigger.
 * States are kept by reference, not cloned: the window engine never modifies a state it was given
 * (it returns new ones), and cloning would dominate the cost of a batch.
 */
export class MemoryWindowStateStore<S, X = unknown> implements PartitionStateStore<S, X> {
  readonly #partitions = new Map<string, Held<S, X>>();

  async load(partitionId: string): Promise<StoredPartition<S>> {
    const held = this.#partitions.get(partitionId);
    if (held === undefined) {
      return { state: emptyPartitionState<S>(partitionId), version: 0, outbox: [] };
    }
    return { ...held.stored, outbox: [...held.stored.outbox] };
  }

  async commit(partitionId: string, change: PartitionCommit<S, X>): Promise<CommitResult> {
    const held = this.#partitions.get(partitionId);
    const current = held?.stored.version ?? 0;
    if (current !== change.expectedVersion) {
      throw new StateConflictError(
        `partition ${partitionId} is at version ${current}, not ${change.expectedVersion}: another invocation changed it; the work will be redone`,
      );
    }
    const version = current + 1;
    const outbox = [...(held?.stored.outbox ?? [])];
    const outputs = held?.outputs ?? new Map<number, X>();
    if (change.outputs !== undefined) {
      const { payload, claimedBy, claimedAt } = change.outputs;
      outbox.push({ seq: version, claimedBy, claimedAt, ref: String(version), produced: 0 });
      outputs.set(version, payload);
    }
    this.#partitions.set(partitionId, {
      stored: { state: change.state, version, outbox },
      outputs,
      idleAt: change.idleAt,
    });
    return { version, outbox: [...outbox] };
  }

  async readOutputs(partitionId: string, entries: readonly OutboxEntry[]): Promise<Map<number, X>> {
    const outputs = this.#partitions.get(partitionId)?.outputs;
    const found = new Map<number, X>();
    for (const { seq } of entries) {
      const payload = outputs?.get(seq);
      if (payload !== undefined) found.set(seq, payload);
    }
    return found;
  }

  async markEmitted(partitionId: string, seqs: readonly number[], after: MarkedAt): Promise<void> {
    const held = this.#partitions.get(partitionId);
    if (held === undefined) return;
    const done = new Set(seqs);
    held.stored = { ...held.stored, outbox: held.stored.outbox.filter((e) => !done.has(e.seq)) };
    for (const seq of seqs) held.outputs.delete(seq);
    if (held.stored.version === after.version) held.idleAt = after.idleAt;
  }

  async markProduced(partitionId: string, seq: number, produced: number): Promise<void> {
    const held = this.#partitions.get(partitionId);
    if (held === undefined) return;
    const outbox = held.stored.outbox.map((e) => (e.seq === seq ? { ...e, produced } : e));
    held.stored = { ...held.stored, outbox };
  }

  /** Every partition's current state (for inspection: benchmarks, tests). */
  partitionStates(): PartitionState<S>[] {
    return [...this.#partitions.values()].map((held) => held.stored.state);
  }

  async findPartitionsIdle(now: number): Promise<string[]> {
    const due: string[] = [];
    for (const [id, held] of this.#partitions) {
      if (held.idleAt !== null && held.idleAt <= now) due.push(id);
    }
    return due;
  }
}
