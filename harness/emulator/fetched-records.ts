import type { KafkaMessage } from "kafkajs";
import {
  EVENT_ENVELOPE_BYTES,
  MAX_EVENT_BYTES,
  type PolledRecord,
  partitionKeyJsonBytes,
} from "../../functions/kafka-trigger-event-builder.ts";

/** A batch cut from the fetched records of one or more partitions. */
export interface PolledBatch {
  /** What the event carries: each partition's records in offset order, one partition after the other. */
  records: PolledRecord[];
  /**
   * Per partition in the batch, the offset to commit once the batch is done: the one after its last
   * record, filtered-out records included (they ride along and are committed with the batch).
   */
  commitOffsets: Map<number, number>;
}

/** When a batch is due: a full one at once, a partial one at the end of the batching window. */
export interface BatchingRules {
  batchSize: number;
  /** `MaximumBatchingWindowInSeconds`, in ms. */
  windowMs: number;
  /** One partition per event (the harness's old behaviour), instead of a poller's mix. */
  onePartitionPerEvent: boolean;
}

export interface CutRules extends BatchingRules {
  /** The time of the cut (ms): with one partition per event, only a partition due by then is cut. */
  now: number;
  /** The record as delivered, or undefined when the filters drop it. */
  toRecord: (partition: number, message: KafkaMessage) => PolledRecord | undefined;
}

interface Partition {
  /** Fetched, not yet in a batch, in offset order. */
  fetched: KafkaMessage[];
  fetchedBytes: number;
  /** Fetched records below this offset are buffered, in flight or delivered: fetched again (after a rebalance), they are skipped. */
  acceptFrom: number;
  /** When the oldest of `fetched` was fetched (ms): a partial batch waits the batching window from it. */
  fetchedAt: number;
  /** A batch holding this partition is in flight (at most one per partition, to keep its order). */
  inFlight: boolean;
}

/**
 * The records a poller holds: fetched from each partition assigned to it and not yet in flight.
 * A batch is cut from every free partition that has records, as a Lambda poller does ("a single
 * Lambda payload can contain messages from multiple partitions",
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk-configure.html), within BatchSize and the
 * 6 MB event. A partition in flight gives nothing until its batch is done, so each partition's
 * records reach the function in offset order, one batch at a time.
 */
export class FetchedRecords {
  readonly #topic: string;
  readonly #partitions = new Map<number, Partition>();
  /** Where the next cut starts, so that no partition waits behind the others for long. */
  #cursor = -1;

  constructor(topic: string) {
    this.#topic = topic;
  }

  /** Adds a fetch's messages of one partition, skipping those already held. Returns how many it kept. */
  add(partition: number, messages: readonly KafkaMessage[], now = Date.now()): number {
    const p = this.#partition(partition);
    if (p.fetched.length === 0) p.fetchedAt = now;
    let kept = 0;
    for (const message of messages) {
      const offset = Number(message.offset);
      if (offset < p.acceptFrom) continue;
      p.fetched.push(message);
      p.fetchedBytes += messageBytes(message);
      p.acceptFrom = offset + 1;
      kept++;
    }
    return kept;
  }

  /** True when a partition holds a full batch's worth (or 6 MB): fetching it more only costs memory. */
  isFull(partition: number, batchSize: number): boolean {
    const p = this.#partitions.get(partition);
    return p !== undefined && (p.fetched.length >= batchSize || p.fetchedBytes >= MAX_EVENT_BYTES);
  }

  /**
   * When the next batch is due: now (or earlier) when the free partitions hold a full batch's worth
   * (BatchSize records or 6 MB), else the end of the batching window of their oldest record;
   * undefined when no free partition has records. "Lambda invokes your function when one of the
   * following conditions is met: the payload size reaches 6 MB, the batching window reaches its
   * maximum value, or the number of records reaches the batch size."
   * https://docs.aws.amazon.com/lambda/latest/dg/with-msk-configure.html
   * Records the filters will drop count here (they are only told apart when cut): with filters, a
   * batch may go out before its window with fewer records, which BatchSize, a maximum, allows.
   */
  dueAt(rules: BatchingRules): number | undefined {
    let oldest = Number.POSITIVE_INFINITY;
    const held = { records: 0, eventBytes: EVENT_ENVELOPE_BYTES };
    for (const p of this.#partitions.values()) {
      if (p.inFlight || p.fetched.length === 0) continue;
      if (rules.onePartitionPerEvent) {
        held.records = 0;
        held.eventBytes = EVENT_ENVELOPE_BYTES;
      }
      held.records += p.fetched.length;
      held.eventBytes += p.fetchedBytes * BASE64_GROWTH;
      if (isFullBatch(held, rules.batchSize)) return Number.NEGATIVE_INFINITY;
      oldest = Math.min(oldest, p.fetchedAt);
    }
    return oldest === Number.POSITIVE_INFINITY ? undefined : oldest + rules.windowMs;
  }

  /**
   * The next batch from the free partitions, which it marks in flight; undefined when none has
   * records. With one partition per event, the batch is the first partition (from the cursor)
   * that is due by itself, full or at the end of its own batching window: another partition's
   * window ending does not send this one's records early.
   */
  cut(rules: CutRules): PolledBatch | undefined {
    const batch: PolledBatch = { records: [], commitOffsets: new Map() };
    const size = { bytes: EVENT_ENVELOPE_BYTES, full: false };
    for (const partition of this.#freePartitionsFromCursor()) {
      if (rules.onePartitionPerEvent && !this.#dueAlone(partition, rules)) continue;
      const taken = this.#take(partition, rules, batch, size);
      if (taken > 0 && batch.commitOffsets.size === 1) this.#cursor = partition;
      if (size.full || (rules.onePartitionPerEvent && taken > 0)) break;
    }
    return batch.commitOffsets.size === 0 ? undefined : batch;
  }

  /** The batch holding these partitions is done (or abandoned): they may give records again. */
  release(partitions: Iterable<number>): void {
    for (const partition of partitions) {
      const p = this.#partitions.get(partition);
      if (p !== undefined) p.inFlight = false;
    }
  }

  /**
   * After a rebalance the consumer fetches again from each partition's last commit. For a
   * partition still assigned here, drop what was fetched and not yet taken (it comes again) and
   * keep refusing what was taken: records delivered, or in flight, are not delivered twice even
   * when their commit has not landed yet. Partitions no longer assigned are forgotten (their new
   * owner starts from the last commit); they are returned.
   */
  reassigned(assigned: ReadonlySet<number>): number[] {
    const lost: number[] = [];
    for (const [partition, p] of this.#partitions) {
      if (!assigned.has(partition)) {
        this.#partitions.delete(partition);
        lost.push(partition);
        continue;
      }
      const firstUntaken = p.fetched[0];
      if (firstUntaken !== undefined) p.acceptFrom = Number(firstUntaken.offset);
      p.fetched = [];
      p.fetchedBytes = 0;
    }
    return lost;
  }

  /**
   * Takes one partition's records into `batch` until it is full; filtered-out records ride along.
   * Returns how many fetched messages it took.
   */
  #take(
    partition: number,
    rules: CutRules,
    batch: PolledBatch,
    size: { bytes: number; full: boolean },
  ): number {
    const p = this.#partition(partition);
    let taken = 0;
    let keyBytes = partitionKeyJsonBytes(this.#topic, partition);
    while (taken < p.fetched.length) {
      if (batch.records.length >= rules.batchSize) {
        size.full = true;
        break;
      }
      const message = p.fetched[taken] as KafkaMessage;
      const record = rules.toRecord(partition, message);
      if (record !== undefined) {
        const bytes = record.bytes + 1 + keyBytes; // and the comma after it
        if (batch.records.length > 0 && size.bytes + bytes > MAX_EVENT_BYTES) {
          size.full = true;
          break;
        }
        batch.records.push(record);
        size.bytes += bytes;
        keyBytes = 0;
      }
      taken++;
    }
    if (taken === 0) return 0;
    const until = Number((p.fetched[taken - 1] as KafkaMessage).offset) + 1;
    for (const message of p.fetched.splice(0, taken)) p.fetchedBytes -= messageBytes(message);
    batch.commitOffsets.set(partition, until);
    p.inFlight = true;
    return taken;
  }

  /** Whether a partition makes a batch by itself at `rules.now`: full, or its batching window over. */
  #dueAlone(partition: number, rules: CutRules): boolean {
    const p = this.#partition(partition);
    const held = {
      records: p.fetched.length,
      eventBytes: EVENT_ENVELOPE_BYTES + p.fetchedBytes * BASE64_GROWTH,
    };
    return isFullBatch(held, rules.batchSize) || p.fetchedAt + rules.windowMs <= rules.now;
  }

  /** Free partitions with records, in partition order, starting after the last cut's first one. */
  #freePartitionsFromCursor(): number[] {
    const free = [...this.#partitions]
      .filter(([, p]) => !p.inFlight && p.fetched.length > 0)
      .map(([partition]) => partition)
      .sort((a, b) => a - b);
    const start = free.findIndex((partition) => partition > this.#cursor);
    return start <= 0 ? free : [...free.slice(start), ...free.slice(0, start)];
  }

  #partition(partition: number): Partition {
    let p = this.#partitions.get(partition);
    if (p === undefined) {
      p = { fetched: [], fetchedBytes: 0, acceptFrom: 0, fetchedAt: 0, inFlight: false };
      this.#partitions.set(partition, p);
    }
    return p;
  }
}

/** Records that make a batch at once: BatchSize of them, or an event of 6 MB. */
const isFullBatch = (held: { records: number; eventBytes: number }, batchSize: number): boolean =>
  held.records >= batchSize || held.eventBytes >= MAX_EVENT_BYTES;

/** An event carries keys and values in base64: four bytes for every three on the wire. */
const BASE64_GROWTH = 4 / 3;

/** A message's bytes on the wire, roughly: what a held fetch costs in memory. */
const messageBytes = (message: KafkaMessage): number =>
  (message.value?.length ?? 0) + (message.key?.length ?? 0);
