/** Sends one commit request; false when the broker refused it (the committer retries). */
export type CommitRequest = (offsets: [number, number][]) => Promise<boolean>;

/**
 * The offsets a mapping has to commit, per partition (the next offset to read: the latest asked
 * wins), sent one request at a time in the background, so a partition's next batch need not wait
 * for its commit round trip, and the batches done meanwhile share the next request. A refused
 * request is retried with backoff until it lands, its partitions are assigned elsewhere, or the
 * mapping stops. Nothing is lost by committing late: the records are delivered, and a restart
 * redelivers them from the last commit (at least once, which the state's offset guard absorbs).
 * AWS does not document when its poller commits; this is the reading that neither loses records
 * nor holds a partition for a round trip per batch.
 */
export class OffsetCommitter {
  readonly #send: CommitRequest;
  readonly #backoff: (attempt: number) => Promise<boolean>;
  readonly #onCommitted: (offsets: [number, number][]) => void;
  readonly #pending = new Map<number, number>();
  #running: Promise<void> | undefined;

  constructor(options: {
    send: CommitRequest;
    /** Waits before retry `attempt`; false when the mapping stops meanwhile (give up). */
    backoff: (attempt: number) => Promise<boolean>;
    onCommitted: (offsets: [number, number][]) => void;
  }) {
    this.#send = options.send;
    this.#backoff = options.backoff;
    this.#onCommitted = options.onCommitted;
  }

  /** Asks for `offsets` to be committed; returns at once. */
  commit(offsets: Iterable<[number, number]>): void {
    for (const [partition, offset] of offsets) this.#keepLatest(partition, offset);
    this.#running ??= this.#sendAll().finally(() => {
      this.#running = undefined;
      if (this.#pending.size > 0) this.commit([]);
    });
  }

  /** Partitions assigned elsewhere: their new owner commits from now on. */
  forget(partitions: Iterable<number>): void {
    for (const partition of partitions) this.#pending.delete(partition);
  }

  /** Resolves once everything asked so far is committed (or given up on when stopping). */
  async flush(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  #keepLatest(partition: number, offset: number): void {
    if (offset > (this.#pending.get(partition) ?? Number.NEGATIVE_INFINITY))
      this.#pending.set(partition, offset);
  }

  /** Sends what is pending, then what came meanwhile, until nothing is left or it gives up. */
  async #sendAll(): Promise<void> {
    for (let attempt = 1; this.#pending.size > 0; ) {
      const offsets = [...this.#pending];
      this.#pending.clear();
      if (await this.#send(offsets)) {
        this.#onCommitted(offsets);
        attempt = 1;
        continue;
      }
      for (const [partition, offset] of offsets) this.#keepLatest(partition, offset);
      if (!(await this.#backoff(attempt++))) {
        this.#pending.clear(); // stopping: redelivered from the last commit at the next start
        return;
      }
    }
  }
}
