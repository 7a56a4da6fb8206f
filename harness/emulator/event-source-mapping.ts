import type { Admin, Consumer, Kafka, KafkaMessage, Message, Producer } from "kafkajs";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import type { KafkaBatchResponse } from "../../functions/kafka-trigger-event.ts";
import {
  type EventSource,
  eventBytes,
  localClusterArn,
  MAX_EVENT_BYTES,
  type PolledRecord,
  type TimestampType,
  toPolledRecord,
  toTriggerRecord,
} from "../../functions/kafka-trigger-event-builder.ts";
import { StartingPosition, type TriggerDeclaration } from "../../functions/trigger-declaration.ts";
import type { Logger } from "../../lib/logger.ts";
import {
  BatchItemFailuresError,
  EventTooLargeError,
  InvalidBatchItemFailureError,
  InvalidBatchResponseError,
  TopicNotFoundError,
} from "./errors.ts";
import { passesFilters } from "./event-filter.ts";
import {
  FailureCondition,
  type FailureConditionName,
  failureRecord,
} from "./failure-destination.ts";
import { fetchSettings } from "./fetch-settings.ts";
import { type BatchingRules, FetchedRecords, type PolledBatch } from "./fetched-records.ts";
import { positionAtTimestamp } from "./group-offsets.ts";
import type { Invoker } from "./invoker.ts";
import { OffsetCommitter } from "./offset-committer.ts";
import { packEvent } from "./packed-event.ts";

export type { KafkaHandler } from "../../functions/kafka-trigger-event.ts";

export interface MappingOptions {
  functionName: string;
  /** Runs the invocations: in sandboxes, or in this process. */
  invoker: Invoker;
  trigger: TriggerDeclaration;
  /** Injected client for the cluster (the harness builds it once). */
  kafka: Kafka;
  /** What the event's `bootstrapServers` says. */
  bootstrapServers: string[];
  logger: Logger;
  /** Invocations in flight at once, each holding its own partitions. Default 10. */
  maxConcurrency?: number;
  /** Cut each event from one partition only, instead of mixing partitions as a poller does. */
  onePartitionPerEvent?: boolean;
  /** Backoff between retries of a failed batch (AWS does not document it). Default 500 ms..30 s. */
  retryBackoff?: { initialMs: number; maxMs: number };
  /** Called after each successful invocation with its records (benchmarks time the harness by it). */
  onDelivered?: (records: number) => void;
}

export interface PartitionProgress {
  /** The next offset to read (what is committed). */
  committed: number;
  /** The offset after the last record of the partition (its high watermark), when known. */
  highWatermark?: number;
}

export interface MappingStats {
  functionName: string;
  invocations: number;
  /** Invocations that started a new execution environment (sandbox). */
  coldStarts: number;
  batchesSucceeded: number;
  recordsDelivered: number;
  recordsFilteredOut: number;
  retries: number;
  recordsGivenUp: number;
  /** Records the topic's retention deleted while their batch was being retried: skipped. */
  recordsExpired: number;
  partitions: Record<number, PartitionProgress>;
}

/** A batch being delivered, and the partitions it holds that a rebalance gave to another consumer. */
interface RunningBatch {
  batch: PolledBatch;
  lost: Set<number>;
  done: Promise<void>;
}

type InvokeOutcome = { ok: true } | { ok: false; error: unknown; retryFrom?: Map<number, number> }; // partition -> lowest failed offset

/** Records still to deliver, and how often the function was invoked with them (or a batch holding them). */
interface PendingRecords {
  records: PolledRecord[];
  invocations: number;
}

/**
 * One Kafka event source mapping, run locally: polls the trigger's topic with a consumer group and
 * invokes the handler the way AWS Lambda's Kafka trigger does (see `harness/README.md` for each
 * behaviour and its source):
 *
 * - like a poller, it fetches from every partition assigned to it and cuts each event from the
 *   fetched records of every partition not in flight (or of one, with `onePartitionPerEvent`);
 * - a batch closes at BatchSize, before the event passes 6 MB, or at the end of the batching window
 *   of its oldest record;
 * - at most one batch in flight per partition, so each partition's records arrive in offset order;
 * - records that fail the filters are not delivered, and their offsets are committed with the batch;
 * - offsets are committed (next offset to read, per partition in the batch) only after the handler
 *   returned successfully;
 * - an error or a timeout retries the whole batch with backoff, holding every partition in it:
 *   forever in on-demand mode, or as the provisioned-mode error controls say.
 */
export class EventSourceMapping {
  readonly #o: Required<MappingOptions>;
  readonly #consumer: Consumer;
  readonly #admin: Admin;
  readonly #source: EventSource;
  readonly #fetched: FetchedRecords;
  readonly #running = new Set<RunningBatch>();
  /** The partitions the group assigned to this consumer. */
  #assigned = new Set<number>();
  readonly #committer = new OffsetCommitter({
    send: (offsets) => this.#tryCommit(offsets),
    backoff: (attempt) => this.#backoff(attempt),
    onCommitted: (offsets) => this.#recordCommitted(offsets),
  });
  /** Partitions paused because a failing batch holds them and their read-ahead is fetched. */
  readonly #paused = new Set<number>();
  /** Partitions of batches that failed and are being retried. */
  readonly #retrying = new Set<number>();
  /** Wakes the fetches waiting for their partition's records to be taken (see `#onFetched`). */
  #wake: () => void = () => {};
  #woken = this.#nextWake();
  #pumpScheduled = false;
  /** Cuts a partial batch at the end of its batching window (see `#pump`). */
  #windowTimer: NodeJS.Timeout | undefined;
  #windowTimerAt = Number.POSITIVE_INFINITY;
  #failureProducer: Producer | undefined;
  #timestampType: TimestampType = "CREATE_TIME";
  #stopping = false;
  readonly #stats: MappingStats;

  constructor(options: MappingOptions) {
    this.#o = {
      maxConcurrency: 10,
      onePartitionPerEvent: false,
      retryBackoff: { initialMs: 500, maxMs: 30_000 },
      onDelivered: () => {},
      ...options,
    };
    const { trigger } = this.#o;
    this.#consumer = options.kafka.consumer({
      groupId: trigger.consumerGroupId,
      ...fetchSettings(trigger),
      allowAutoTopicCreation: false,
      // A member killed without leaving is noticed after this; Kafka accepts 6..300 s by default.
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
    });
    this.#admin = options.kafka.admin();
    this.#fetched = new FetchedRecords(trigger.topic);
    this.#source = {
      flavour: trigger.eventFlavour,
      bootstrapServers: options.bootstrapServers,
      clusterArn: localClusterArn(),
    };
    this.#stats = {
      functionName: options.functionName,
      invocations: 0,
      coldStarts: 0,
      batchesSucceeded: 0,
      recordsDelivered: 0,
      recordsFilteredOut: 0,
      retries: 0,
      recordsGivenUp: 0,
      recordsExpired: 0,
      partitions: {},
    };
  }

  /** Joins the group and starts polling. Resolves once the consumer runs. */
  async start(): Promise<void> {
    const { trigger, logger } = this.#o;
    await this.#admin.connect();
    if (!(await this.#admin.listTopics()).includes(trigger.topic)) {
      await this.#admin.disconnect();
      throw new TopicNotFoundError(trigger.topic, this.#o.bootstrapServers);
    }
    this.#timestampType = await this.#topicTimestampType();
    await this.#applyStartingPosition();
    if (trigger.errorControls?.onFailureTopic !== undefined) {
      this.#failureProducer = this.#o.kafka.producer(PRODUCER_CONFIG);
      await this.#failureProducer.connect();
    }
    await this.#consumer.connect();
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) =>
      this.#onAssignment(payload.memberAssignment[trigger.topic] ?? []),
    );
    await this.#consumer.subscribe({
      topic: trigger.topic,
      fromBeginning: trigger.startingPosition !== StartingPosition.latest,
    });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Every partition's fetch is handed over at once, so that an event can take from all of them.
      partitionsConsumedConcurrently: 1_000,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) =>
        this.#onFetched(batch, resolveOffset, heartbeat),
    });
    logger.info("event source mapping started", {
      topic: trigger.topic,
      groupId: trigger.consumerGroupId,
      batchSize: trigger.batchSize,
      batchingWindowSeconds: trigger.maximumBatchingWindowInSeconds,
      startingPosition: trigger.startingPosition,
      onePartitionPerEvent: this.#o.onePartitionPerEvent,
    });
  }

  /**
   * Stops fetching, lets in-flight batches finish and commit (a batch waiting to be retried is
   * abandoned, uncommitted), then leaves the group and disconnects.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#windowTimer);
    this.#wake();
    this.#pauseFetching([{ topic: this.#o.trigger.topic }]);
    await Promise.all([...this.#running].map((r) => r.done));
    await this.#committer.flush();
    await this.#consumer.disconnect();
    await this.#failureProducer?.disconnect();
    await this.#admin.disconnect();
  }

  /** Counters and per-partition progress; high watermarks refreshed from the broker. */
  async stats(): Promise<MappingStats> {
    try {
      const offsets = await this.#admin.fetchTopicOffsets(this.#o.trigger.topic);
      for (const p of offsets) {
        const entry = this.#stats.partitions[p.partition] ?? { committed: Number(p.low) };
        entry.highWatermark = Number(p.high);
        this.#stats.partitions[p.partition] = entry;
      }
    } catch {
      // Lag is informative only; the broker may be busy.
    }
    return structuredClone(this.#stats);
  }

  /** LATEST / TRIM_HORIZON are the subscription's; AT_TIMESTAMP is committed before joining. */
  async #applyStartingPosition(): Promise<void> {
    const { trigger, kafka } = this.#o;
    if (trigger.startingPosition !== StartingPosition.atTimestamp) return;
    await positionAtTimestamp({
      kafka,
      admin: this.#admin,
      groupId: trigger.consumerGroupId,
      topic: trigger.topic,
      timestampMs: (trigger.startingPositionTimestamp ?? 0) * 1000,
      timeoutMs: POSITIONING_TIMEOUT_MS,
    });
  }

  async #topicTimestampType(): Promise<TimestampType> {
    try {
      const { resources } = await this.#admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          {
            type: 2 /* TOPIC */,
            name: this.#o.trigger.topic,
            configNames: ["message.timestamp.type"],
          },
        ],
      });
      const value = resources[0]?.configEntries.find(
        (c) => c.configName === "message.timestamp.type",
      )?.configValue;
      return value === "LogAppendTime" ? "LOG_APPEND_TIME" : "CREATE_TIME";
    } catch {
      return "CREATE_TIME";
    }
  }

  /**
   * One fetch's messages of one partition, held until batches take them. The consumer fetches
   * again once every partition's fetch has been handed over, so this waits while the partition
   * holds its read-ahead (`READ_AHEAD_BATCHES`; kafkajs's own back-pressure, heart-beating
   * meanwhile), unless a failing batch holds the partition: then it is paused instead, so that the
   * others keep being fetched.
   */
  async #onFetched(
    batch: { partition: number; messages: KafkaMessage[] },
    resolveOffset: (offset: string) => void,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const { partition } = batch;
    const last = batch.messages.at(-1);
    if (this.#stopping || last === undefined) return;
    this.#fetched.add(partition, batch.messages);
    resolveOffset(last.offset);
    this.#schedulePump();
    while (this.#isBacklogged(partition) && !this.#stopping) {
      if (this.#retrying.has(partition)) {
        this.#paused.add(partition);
        this.#pauseFetching([{ topic: this.#o.trigger.topic, partitions: [partition] }]);
        return;
      }
      await this.#wokenOrAfter(1_000);
      // A rebalance shows as a failed heartbeat: let the consumer rejoin.
      if (!(await heartbeat().then(isOk, isNotOk))) return;
    }
  }

  /** Resolves at the next `#wake()`, or after `ms`. */
  async #wokenOrAfter(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#woken, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  #isBacklogged(partition: number): boolean {
    return this.#fetched.isFull(partition, this.#o.trigger.batchSize * READ_AHEAD_BATCHES);
  }

  /** A promise the next `#wake()` settles. */
  #nextWake(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#woken = this.#nextWake();
        resolve();
      };
    });
  }

  /**
   * A rebalance happened: the consumer fetches every assigned partition again from its last commit.
   * Batches in flight keep the partitions still assigned; records of partitions now assigned
   * elsewhere are dropped from their retries and not committed (the new owner redelivers them).
   */
  #onAssignment(partitions: readonly number[]): void {
    this.#assigned = new Set(partitions);
    const lost = this.#fetched.reassigned(this.#assigned);
    this.#committer.forget(lost);
    for (const running of this.#running) {
      for (const partition of lost)
        if (running.batch.commitOffsets.has(partition)) running.lost.add(partition);
    }
    this.#resumeFetching([...this.#paused]);
    this.#wake();
    if (lost.length > 0)
      this.#o.logger.warn("partitions assigned elsewhere after a rebalance", { lost });
  }

  /** Cuts batches on the next turn of the event loop, once every partition of a fetch is in. */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /**
   * Starts batches from the free partitions' records while fewer than `maxConcurrency` are in
   * flight, each once it is due: full, or at the end of its batching window (then a timer comes
   * back for it).
   */
  #pump(): void {
    while (!this.#stopping && this.#running.size < this.#o.maxConcurrency) {
      const dueAt = this.#fetched.dueAt(this.#batching);
      if (dueAt === undefined) return;
      if (dueAt > Date.now()) {
        this.#pumpAt(dueAt);
        return;
      }
      const batch = this.#fetched.cut({
        ...this.#batching,
        now: Date.now(),
        toRecord: (partition, message) => this.#toDeliveredRecord(partition, message),
      });
      if (batch === undefined) return;
      this.#start(batch);
    }
  }

  get #batching(): BatchingRules {
    const { trigger, onePartitionPerEvent } = this.#o;
    return {
      batchSize: trigger.batchSize,
      windowMs: trigger.maximumBatchingWindowInSeconds * 1000,
      onePartitionPerEvent,
    };
  }

  /** Pumps again at `time`, unless a pump is already due sooner. */
  #pumpAt(time: number): void {
    if (this.#windowTimer !== undefined && this.#windowTimerAt <= time) return;
    clearTimeout(this.#windowTimer);
    this.#windowTimerAt = time;
    this.#windowTimer = setTimeout(() => {
      this.#windowTimer = undefined;
      this.#windowTimerAt = Number.POSITIVE_INFINITY;
      this.#pump();
    }, time - Date.now());
  }

  /**
   * Delivers `batch` in the background; its partitions are free again once it is done, and their
   * next batch is cut at once if due: not a turn of the event loop later, where it waited behind
   * the consumer's socket reads (~1 ms a batch; `npm run bench` at batch 100: +25 % records/s).
   */
  #start(batch: PolledBatch): void {
    this.#resumeDrained(batch.commitOffsets.keys());
    this.#wake();
    const running: RunningBatch = { batch, lost: new Set(), done: Promise.resolve() };
    running.done = this.#run(running).finally(() => {
      this.#running.delete(running);
      for (const partition of batch.commitOffsets.keys()) this.#retrying.delete(partition);
      this.#fetched.release(batch.commitOffsets.keys());
      this.#pump();
    });
    this.#running.add(running);
  }

  /**
   * The record as the trigger delivers it (its JSON), or undefined when the filters drop it. The
   * filters read the record as an object; without filters none is made.
   */
  #toDeliveredRecord(partition: number, message: KafkaMessage): PolledRecord | undefined {
    const { topic, filterCriteria } = this.#o.trigger;
    const type = this.#timestampType;
    if (
      filterCriteria.length > 0 &&
      !passesFilters(filterCriteria, toTriggerRecord(topic, partition, message, type))
    ) {
      this.#stats.recordsFilteredOut++;
      return undefined;
    }
    return toPolledRecord(topic, partition, message, type);
  }

  /**
   * Delivers one batch until it succeeds or is given up on, then commits every partition in it.
   * A batch abandoned (the mapping stops while it waits to be retried) commits nothing more.
   */
  async #run(running: RunningBatch): Promise<void> {
    try {
      const done = running.batch.records.length === 0 || (await this.#deliver(running));
      if (done) this.#commit(running, running.batch.commitOffsets);
    } catch (error) {
      // Only the failure destination's producer can throw here, and only once the mapping is
      // stopping: the batch is delivered again from the last commit at the next start.
      this.#o.logger.error("batch abandoned", { error });
    }
  }

  /**
   * Commits offsets (the next to read) of the partitions still assigned to this consumer, through
   * the committer: in the background, retried until they land (a refused commit left failed would
   * stay missing on a quiet partition, its records redelivered at the next start).
   */
  #commit(running: RunningBatch, offsets: ReadonlyMap<number, number>): void {
    this.#committer.commit([...offsets].filter(([partition]) => !running.lost.has(partition)));
  }

  /** One commit request for the partitions still assigned here; false (logged) when refused. */
  async #tryCommit(offsets: [number, number][]): Promise<boolean> {
    const { topic } = this.#o.trigger;
    const owned = offsets.filter(([partition]) => this.#assigned.has(partition));
    if (owned.length === 0) return true;
    try {
      await this.#consumer.commitOffsets(
        owned.map(([partition, offset]) => ({ topic, partition, offset: String(offset) })),
      );
      return true;
    } catch (error) {
      this.#o.logger.warn("commit refused; retrying it", { offsets: owned, error });
      return false;
    }
  }

  #recordCommitted(offsets: [number, number][]): void {
    for (const [partition, offset] of offsets) {
      if (!this.#assigned.has(partition)) continue;
      this.#stats.partitions[partition] = {
        ...this.#stats.partitions[partition],
        committed: offset,
      };
    }
  }

  /** Commits past `records`: for each partition, the offset after its last record there. */
  #commitPast(running: RunningBatch, records: readonly PolledRecord[]): void {
    const offsets = new Map<number, number>();
    for (const r of records)
      offsets.set(r.partition, Math.max(offsets.get(r.partition) ?? 0, r.offset + 1));
    this.#commit(running, offsets);
  }

  /**
   * Invokes the handler with the batch until it succeeds or the error controls give up on it.
   * Commits the progress partial batch responses, bisection and given-up records make. Returns
   * false when the mapping stopped before the batch was done.
   */
  async #deliver(running: RunningBatch): Promise<boolean> {
    const maxRetries = this.#maxRetries();
    const queue: PendingRecords[] = [{ records: running.batch.records, invocations: 0 }];
    let retries = 0; // of the queue's first entry
    while (queue.length > 0) {
      const head = queue[0] as PendingRecords;
      const owned = head.records.filter((r) => !running.lost.has(r.partition));
      const retrying = head.invocations > 0 || retries > 0;
      const kept = retrying ? await this.#withoutExpired(owned) : owned;
      const current = await this.#withoutTooOld(kept, head.invocations);
      head.records = current;
      if (current.length === 0) {
        queue.shift();
        retries = 0;
        continue;
      }
      const tooLarge = this.#tooLarge(current);
      if (tooLarge && this.#o.trigger.errorControls?.onFailureTopic !== undefined) {
        // Never invoked: the record goes to the destination as AWS sends it, with no response.
        await this.#giveUp(current, FailureCondition.payloadTooLarge, 0);
        this.#settle(running, queue);
        retries = 0;
        continue;
      }
      if (!tooLarge) head.invocations++;
      const outcome = tooLarge ? eventTooLarge(current) : await this.#invoke(current);
      if (outcome.ok) {
        this.#stats.batchesSucceeded++;
        this.#stats.recordsDelivered += current.length;
        this.#o.onDelivered(current.length);
        this.#settle(running, queue);
        retries = 0;
        continue;
      }
      const failed = this.#keepFailed(running, current, outcome);
      head.records = failed;
      this.#holdForRetries(running);
      this.#stats.retries++;
      if (this.#o.trigger.errorControls?.bisectBatchOnFunctionError && failed.length > 1) {
        this.#split(queue, outcome.error);
        retries = 0;
      } else {
        retries++;
        this.#o.logger.warn("batch failed; retrying", {
          ...logFieldsOf(failed),
          attempt: retries,
          error: outcome.error,
        });
        if (retries > maxRetries) {
          await this.#giveUp(failed, FailureCondition.retriesExhausted, head.invocations);
          this.#settle(running, queue);
          retries = 0;
          continue;
        }
      }
      if (!(await this.#backoff(Math.max(1, retries)))) return false;
    }
    return true;
  }

  /** Whether AWS could not invoke the function with `records`: an event over 6 MB. */
  #tooLarge(records: readonly PolledRecord[]): boolean {
    // The batch cutter lets a record pass 6 MB only alone, so only one record needs counting.
    return records.length === 1 && eventBytes(records) > MAX_EVENT_BYTES;
  }

  /** The queue's first records are done (delivered or given up): commits past them, unless last. */
  #settle(running: RunningBatch, queue: PendingRecords[]): void {
    const done = queue.shift() as PendingRecords;
    if (queue.length > 0) this.#commitPast(running, done.records);
  }

  /**
   * BisectBatchOnFunctionError: the queue's first records are replaced by their two halves, each
   * retried on its own. Splitting consumes no retry, as AWS documents for Kinesis (the Kafka pages
   * are silent): healthy records are not given up with a poison one for want of retries.
   * https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
   */
  #split(queue: PendingRecords[], error: unknown): void {
    const { records, invocations } = queue[0] as PendingRecords;
    const half = Math.ceil(records.length / 2);
    this.#o.logger.warn("batch failed; retrying its halves", { ...logFieldsOf(records), error });
    queue.splice(
      0,
      1,
      { records: records.slice(0, half), invocations },
      { records: records.slice(half), invocations },
    );
  }

  /** The batch's partitions wait for its retries: their fetches stop waiting, and pause instead. */
  #holdForRetries(running: RunningBatch): void {
    for (const partition of running.batch.commitOffsets.keys()) this.#retrying.add(partition);
    this.#wake();
  }

  /** With infinite retries and a failure destination, AWS caps retries at 10. */
  #maxRetries(): number {
    const controls = this.#o.trigger.errorControls;
    if (controls === undefined) return Number.POSITIVE_INFINITY;
    if (controls.maximumRetryAttempts !== -1) return controls.maximumRetryAttempts;
    return controls.onFailureTopic === undefined ? Number.POSITIVE_INFINITY : 10;
  }

  /**
   * Skips records the topic no longer holds: its retention deleted them while their batch was
   * being retried. Lambda retries failed records "until the record expires" (an expired record
   * cannot be fetched again) and then goes on with the partition; nothing goes to the on-failure
   * destination. When the broker cannot say (it is down), every record is kept.
   * https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html (MaximumRetryAttempts),
   * https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries.html
   */
  async #withoutExpired(records: PolledRecord[]): Promise<PolledRecord[]> {
    const earliest = await this.#earliestOffsets();
    if (earliest === undefined) return records;
    const held = (r: PolledRecord) => r.offset >= (earliest.get(r.partition) ?? 0);
    const expired = records.filter((r) => !held(r));
    if (expired.length === 0) return records;
    this.#stats.recordsExpired += expired.length;
    this.#o.logger.error("records expired from the topic while being retried; skipped, as in AWS", {
      ...logFieldsOf(expired),
      lastOffset: expired.at(-1)?.offset,
    });
    return records.filter(held);
  }

  /** Each partition's earliest offset the topic still holds, or undefined if the broker can't say. */
  async #earliestOffsets(): Promise<Map<number, number> | undefined> {
    try {
      const offsets = await this.#admin.fetchTopicOffsets(this.#o.trigger.topic);
      return new Map(offsets.map((o) => [o.partition, Number(o.low)]));
    } catch (error) {
      this.#o.logger.warn("could not read the topic's earliest offsets; keeping every record", {
        error,
      });
      return undefined;
    }
  }

  /** Gives up on records past MaximumRecordAgeInSeconds (checked before every attempt); returns the others. */
  async #withoutTooOld(records: PolledRecord[], attempts: number): Promise<PolledRecord[]> {
    const maxAge = this.#o.trigger.errorControls?.maximumRecordAgeInSeconds ?? -1;
    if (maxAge === -1) return records;
    const oldest = Date.now() - maxAge * 1000;
    const tooOld = records.filter((r) => r.timestamp < oldest);
    if (tooOld.length === 0) return records;
    await this.#giveUp(tooOld, FailureCondition.recordAgeExceeded, attempts);
    return records.filter((r) => r.timestamp >= oldest);
  }

  /**
   * What is retried after a failure: the whole batch, or, after a partial batch response, each
   * failed partition's records from its lowest failed offset. What came before is committed, and
   * the partitions without failures are committed entirely.
   */
  #keepFailed(
    running: RunningBatch,
    records: PolledRecord[],
    outcome: Extract<InvokeOutcome, { ok: false }>,
  ): PolledRecord[] {
    const retryFrom = outcome.retryFrom;
    if (retryFrom === undefined) return records;
    const succeeded = records.filter(
      (r) => r.offset < (retryFrom.get(r.partition) ?? Number.POSITIVE_INFINITY),
    );
    this.#commitPast(running, succeeded);
    return records.filter(
      (r) => r.offset >= (retryFrom.get(r.partition) ?? Number.POSITIVE_INFINITY),
    );
  }

  /** One invocation with the records packed; the invoker ends it as failed at the function timeout. */
  async #invoke(records: PolledRecord[]): Promise<InvokeOutcome> {
    const payload = { packed: packEvent(this.#source, records) };
    this.#stats.invocations++;
    const result = await this.#o.invoker.invoke(payload, this.#o.trigger.timeoutSeconds);
    if (result.coldStart) this.#stats.coldStarts++;
    if (!result.ok) return { ok: false, error: result.error };
    return this.#readResponse(records, result.response as KafkaBatchResponse | null | undefined);
  }

  /**
   * A partial batch response counts only with `ReportBatchItemFailures`; otherwise Lambda ignores
   * what the function returns. An empty list, `{}` or null is success; `batchItemFailures` that is
   * not a list fails the whole batch, like an identifier not in it. Each failed partition is
   * retried from its lowest failed offset (AWS leaves this undocumented; it is the Kinesis rule).
   * https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html
   */
  #readResponse(
    records: PolledRecord[],
    // biome-ignore lint/suspicious/noConfusingVoidType: what a handler returns, as Lambda's types say
    response: KafkaBatchResponse | null | undefined | void,
  ): InvokeOutcome {
    const reports =
      this.#o.trigger.errorControls?.functionResponseTypes.includes("ReportBatchItemFailures");
    const failures: unknown = reports ? (response?.batchItemFailures ?? []) : [];
    if (!Array.isArray(failures))
      return { ok: false, error: new InvalidBatchResponseError(failures) };
    if (failures.length === 0) return { ok: true };
    const retryFrom = new Map<number, number>();
    for (const failure of failures) {
      const id = failure?.itemIdentifier;
      const found = records.find(
        (r) => `${r.topic}-${r.partition}` === id?.partition && r.offset === Number(id?.offset),
      );
      if (found === undefined) return { ok: false, error: new InvalidBatchItemFailureError(id) };
      retryFrom.set(
        found.partition,
        Math.min(retryFrom.get(found.partition) ?? found.offset, found.offset),
      );
    }
    return {
      ok: false,
      error: new BatchItemFailuresError(failures.length),
      retryFrom,
    };
  }

  /** Records given up on go to the on-failure topic (if any) and are then committed past. */
  async #giveUp(
    records: PolledRecord[],
    condition: FailureConditionName,
    invokeCount: number,
  ): Promise<void> {
    const { functionName, logger, trigger } = this.#o;
    this.#stats.recordsGivenUp += records.length;
    const topic = trigger.errorControls?.onFailureTopic;
    logger.error("giving up on records", {
      condition,
      records: records.length,
      partitions: partitionsOf(records),
      firstOffset: records[0]?.offset,
      destination: topic ?? "(none: dropped)",
    });
    if (topic === undefined || this.#failureProducer === undefined) return;
    const batch = records.map((r) =>
      toTriggerRecord(r.topic, r.partition, r.message, r.timestampType),
    );
    const messages = batch.map((r) =>
      failureRecord(r, {
        functionName,
        condition,
        approximateInvokeCount: invokeCount,
        source: this.#source,
        batch,
      }),
    );
    await this.#sendToDestination(topic, messages);
  }

  /**
   * Sends on-failure records, retrying until the destination takes them: the records are
   * committed past only then, so a destination that refuses holds the partitions rather than lose
   * the records. Throws only when the mapping stops meanwhile (the batch is then abandoned,
   * uncommitted, and delivered again at the next start).
   */
  async #sendToDestination(topic: string, messages: Message[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#failureProducer?.send({ topic, acks: -1, messages });
        return;
      } catch (error) {
        this.#o.logger.warn("on-failure destination refused the records; retrying", {
          topic,
          attempt,
          error,
        });
        if (!(await this.#backoff(attempt))) throw error;
      }
    }
  }

  /** Waits before a retry (exponential, capped); false if the mapping stops meanwhile. */
  async #backoff(attempt: number): Promise<boolean> {
    const { initialMs, maxMs } = this.#o.retryBackoff;
    const until = Date.now() + Math.min(maxMs, initialMs * 2 ** (attempt - 1));
    while (Date.now() < until) {
      if (this.#stopping) return false;
      await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
    }
    return !this.#stopping;
  }

  /** Resumes the partitions a batch just drained below their read-ahead. */
  #resumeDrained(partitions: Iterable<number>): void {
    const drained = [...partitions].filter((p) => this.#paused.has(p) && !this.#isBacklogged(p));
    this.#resumeFetching(drained);
  }

  #resumeFetching(partitions: number[]): void {
    if (partitions.length === 0 || this.#stopping) return;
    for (const p of partitions) this.#paused.delete(p);
    try {
      this.#consumer.resume([{ topic: this.#o.trigger.topic, partitions }]);
    } catch {
      // The consumer is not running (stopping): nothing to resume.
    }
  }

  #pauseFetching(topicPartitions: { topic: string; partitions?: number[] }[]): void {
    try {
      this.#consumer.pause(topicPartitions);
    } catch {
      // The consumer is not running yet or any more: nothing is fetched anyway.
    }
  }
}

/**
 * How many batches' worth of records a partition may hold fetched before its fetching waits: two,
 * so the next batch is in hand while one is in flight, and the consumer's next fetch (which waits
 * for every partition) is not held up by one partition's batch. Bounded by 6 MB per partition too.
 */
const READ_AHEAD_BATCHES = 2;

/** How long the AT_TIMESTAMP positioning may take before the mapping refuses to start. */
const POSITIONING_TIMEOUT_MS = 30_000;

const isOk = () => true;
const isNotOk = () => false;

/** The outcome of a batch of one record AWS cannot invoke the function with (over 6 MB). */
const eventTooLarge = (records: readonly PolledRecord[]): InvokeOutcome => {
  const [record] = records as [PolledRecord];
  return { ok: false, error: new EventTooLargeError(record, eventBytes(records)) };
};

/** Which records a log line is about. */
const logFieldsOf = (records: readonly PolledRecord[]) => ({
  partitions: partitionsOf(records),
  firstOffset: records[0]?.offset,
  records: records.length,
});

/** The partitions of some records, in the order they first appear. */
const partitionsOf = (records: readonly PolledRecord[]): number[] => [
  ...new Set(records.map((r) => r.partition)),
];
