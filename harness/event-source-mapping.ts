import type { Admin, Consumer, Kafka, KafkaMessage, Producer } from "kafkajs";
import type {
  KafkaBatchResponse,
  KafkaHandler,
  KafkaTriggerRecord,
} from "../functions/kafka-trigger-event.ts";
import {
  buildTriggerEvent,
  EVENT_ENVELOPE_BYTES,
  type EventSource,
  localClusterArn,
  MAX_EVENT_BYTES,
  recordJsonBytes,
  type TimestampType,
  toTriggerRecord,
} from "../functions/kafka-trigger-event-builder.ts";
import { lambdaContext } from "../functions/lambda-context.ts";
import { StartingPosition, type TriggerDeclaration } from "../functions/trigger-declaration.ts";
import type { Logger } from "../lib/logger.ts";
import {
  FunctionTimeoutError,
  InvalidBatchItemFailureError,
  TopicNotFoundError,
} from "./errors.ts";
import { passesFilters } from "./event-filter.ts";
import {
  FailureCondition,
  type FailureConditionName,
  failureRecord,
} from "./failure-destination.ts";
import { fetchSettings } from "./fetch-settings.ts";

export type { KafkaHandler } from "../functions/kafka-trigger-event.ts";

export interface MappingOptions {
  functionName: string;
  handler: KafkaHandler;
  trigger: TriggerDeclaration;
  /** Injected client for the cluster (the harness builds it once). */
  kafka: Kafka;
  /** What the event's `bootstrapServers` says. */
  bootstrapServers: string[];
  logger: Logger;
  /** Partitions processed in parallel, each with at most one batch in flight. Default 10. */
  maxConcurrentPartitions?: number;
  /** Backoff between retries of a failed batch (AWS does not document it). Default 500 ms..30 s. */
  retryBackoff?: { initialMs: number; maxMs: number };
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
  batchesSucceeded: number;
  recordsDelivered: number;
  recordsFilteredOut: number;
  retries: number;
  recordsGivenUp: number;
  partitions: Record<number, PartitionProgress>;
}

/**
 * One Kafka event source mapping, run locally: polls the trigger's topic with a consumer group and
 * invokes the handler the way AWS Lambda's Kafka trigger does (see `harness/README.md` for each
 * behaviour and its source):
 *
 * - one batch in flight per partition, partitions in parallel; records of a partition in offset order;
 * - a batch closes at BatchSize, at the end of the batching window, or before the event passes 6 MB;
 * - records that fail the filters are not delivered, and their offsets are committed with the batch;
 * - offsets are committed (next offset to read) only after the handler returned successfully;
 * - an error or a timeout retries the whole batch with backoff, holding that partition only: forever
 *   in on-demand mode, or as the provisioned-mode error controls say.
 */
export class EventSourceMapping {
  readonly #o: Required<MappingOptions>;
  readonly #consumer: Consumer;
  readonly #admin: Admin;
  readonly #source: EventSource;
  #failureProducer: Producer | undefined;
  #timestampType: TimestampType = "CREATE_TIME";
  #stopping = false;
  readonly #stats: MappingStats;

  constructor(options: MappingOptions) {
    this.#o = {
      maxConcurrentPartitions: 10,
      retryBackoff: { initialMs: 500, maxMs: 30_000 },
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
    this.#source = {
      flavour: trigger.eventFlavour,
      bootstrapServers: options.bootstrapServers,
      clusterArn: localClusterArn(),
    };
    this.#stats = {
      functionName: options.functionName,
      invocations: 0,
      batchesSucceeded: 0,
      recordsDelivered: 0,
      recordsFilteredOut: 0,
      retries: 0,
      recordsGivenUp: 0,
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
      this.#failureProducer = this.#o.kafka.producer({ allowAutoTopicCreation: false });
      await this.#failureProducer.connect();
    }
    await this.#consumer.connect();
    await this.#consumer.subscribe({
      topic: trigger.topic,
      fromBeginning: trigger.startingPosition !== StartingPosition.latest,
    });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#o.maxConcurrentPartitions,
      eachBatch: async (payload) => this.#onFetchedBatch(payload),
    });
    logger.info("event source mapping started", {
      topic: trigger.topic,
      groupId: trigger.consumerGroupId,
      batchSize: trigger.batchSize,
      batchingWindowSeconds: trigger.maximumBatchingWindowInSeconds,
      startingPosition: trigger.startingPosition,
    });
  }

  /** Stops fetching, lets in-flight batches finish and commit, then disconnects. */
  async stop(): Promise<void> {
    this.#stopping = true;
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

  /** The group has no committed offsets: LATEST / TRIM_HORIZON are the subscription's; AT_TIMESTAMP is set here. */
  async #applyStartingPosition(): Promise<void> {
    const { trigger } = this.#o;
    if (trigger.startingPosition !== StartingPosition.atTimestamp) return;
    const [committed] = await this.#admin.fetchOffsets({
      groupId: trigger.consumerGroupId,
      topics: [trigger.topic],
    });
    if (committed?.partitions.some((p) => Number(p.offset) >= 0)) return; // StartingPosition is ignored
    const offsets = await this.#admin.fetchTopicOffsetsByTimestamp(
      trigger.topic,
      (trigger.startingPositionTimestamp ?? 0) * 1000,
    );
    await this.#admin.setOffsets({
      groupId: trigger.consumerGroupId,
      topic: trigger.topic,
      partitions: offsets.map((p) => ({ partition: p.partition, offset: p.offset })),
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
   * One fetch's messages of one partition (kafkajs calls this at most once at a time per
   * partition): cut into batches, each delivered until it succeeds or is given up on, committing
   * after each. Returns early, without committing, when the consumer stops or the partition is
   * reassigned (the new owner redelivers from the last commit).
   */
  async #onFetchedBatch(payload: {
    batch: { topic: string; partition: number; messages: KafkaMessage[] };
    resolveOffset: (offset: string) => void;
    heartbeat: () => Promise<void>;
    isRunning: () => boolean;
    isStale: () => boolean;
  }): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const live = () => isRunning() && !isStale() && !this.#stopping;
    const commit = async (nextOffset: number) => {
      await this.#consumer.commitOffsets([{ topic, partition, offset: String(nextOffset) }]);
      resolveOffset(String(nextOffset - 1));
      this.#stats.partitions[partition] = {
        ...this.#stats.partitions[partition],
        committed: nextOffset,
      };
    };
    const { batchSize, filterCriteria } = this.#o.trigger;
    let i = 0;
    while (i < batch.messages.length) {
      if (!live()) return;
      // Cut the next batch: BatchSize passing records, under 6 MB; filtered records ride along.
      const records: KafkaTriggerRecord[] = [];
      let bytes = EVENT_ENVELOPE_BYTES;
      let lastOffset = -1;
      while (i < batch.messages.length && records.length < batchSize) {
        const message = batch.messages[i] as KafkaMessage;
        const record = toTriggerRecord(topic, partition, message, this.#timestampType);
        if (!passesFilters(filterCriteria, record)) {
          this.#stats.recordsFilteredOut++;
          lastOffset = record.offset;
          i++;
          continue;
        }
        const size = recordJsonBytes(record);
        if (records.length > 0 && bytes + size > MAX_EVENT_BYTES) break;
        records.push(record);
        bytes += size;
        lastOffset = record.offset;
        i++;
      }
      if (records.length > 0) {
        const delivered = await this.#deliver(records, commit, heartbeat, live);
        if (!delivered) return;
      }
      await commit(lastOffset + 1);
      await heartbeat();
    }
  }

  /**
   * Invokes the handler with one batch until it succeeds or the error controls give up on it.
   * Commits progress made by partial batch responses through `commit`. Returns false when the
   * consumer stopped or lost the partition before the batch was done (nothing more is committed).
   */
  async #deliver(
    batch: KafkaTriggerRecord[],
    commit: (nextOffset: number) => Promise<void>,
    heartbeat: () => Promise<void>,
    live: () => boolean,
  ): Promise<boolean> {
    const { trigger, logger } = this.#o;
    const controls = trigger.errorControls;
    // With infinite retries and a failure destination, AWS caps retries at 10.
    const maxRetries =
      controls === undefined
        ? Number.POSITIVE_INFINITY
        : controls.maximumRetryAttempts === -1
          ? controls.onFailureTopic === undefined
            ? Number.POSITIVE_INFINITY
            : 10
          : controls.maximumRetryAttempts;
    const queue: KafkaTriggerRecord[][] = [batch];
    let attempts = 0;
    while (queue.length > 0) {
      let current = queue[0] as KafkaTriggerRecord[];
      if (controls !== undefined && controls.maximumRecordAgeInSeconds !== -1) {
        const oldest = Date.now() - controls.maximumRecordAgeInSeconds * 1000;
        const tooOld = current.filter((r) => r.timestamp < oldest);
        if (tooOld.length > 0) {
          await this.#giveUp(tooOld, FailureCondition.recordAgeExceeded, attempts);
          current = current.filter((r) => r.timestamp >= oldest);
          queue[0] = current;
          if (current.length === 0) {
            queue.shift();
            continue;
          }
        }
      }
      const outcome = await this.#invoke(current, heartbeat);
      if (outcome.ok) {
        queue.shift();
        attempts = 0;
        this.#stats.batchesSucceeded++;
        this.#stats.recordsDelivered += current.length;
        if (queue.length > 0) await commit((current.at(-1) as KafkaTriggerRecord).offset + 1);
        continue;
      }
      if (outcome.resumeFrom !== undefined) {
        // Partial batch response: what came before the lowest failed offset succeeded.
        if (outcome.resumeFrom > (current[0] as KafkaTriggerRecord).offset)
          await commit(outcome.resumeFrom);
        current = current.filter((r) => r.offset >= (outcome.resumeFrom as number));
        queue[0] = current;
      }
      attempts++;
      this.#stats.retries++;
      logger.warn("batch failed; retrying", {
        partition: current[0]?.partition,
        firstOffset: current[0]?.offset,
        records: current.length,
        attempt: attempts,
        error: outcome.error,
      });
      if (attempts > maxRetries) {
        await this.#giveUp(current, FailureCondition.retriesExhausted, attempts);
        queue.shift();
        attempts = 0;
        if (queue.length > 0) await commit((current.at(-1) as KafkaTriggerRecord).offset + 1);
        continue;
      }
      if (controls?.bisectBatchOnFunctionError && current.length > 1) {
        const half = Math.ceil(current.length / 2);
        queue.splice(0, 1, current.slice(0, half), current.slice(half));
      }
      if (!(await this.#backoff(attempts, heartbeat, live))) return false;
    }
    return live() || !this.#stopping;
  }

  /** One invocation, raced against the function timeout. */
  async #invoke(
    records: KafkaTriggerRecord[],
    heartbeat: () => Promise<void>,
  ): Promise<{ ok: true } | { ok: false; error: unknown; resumeFrom?: number }> {
    const { functionName, trigger, handler } = this.#o;
    const context = lambdaContext(functionName, trigger.timeoutSeconds);
    const event = buildTriggerEvent(this.#source, records);
    this.#stats.invocations++;
    // Long invocations must not cost the partition: keep the group membership alive.
    const beat = setInterval(() => void heartbeat().catch(() => {}), 3_000);
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new FunctionTimeoutError(functionName, trigger.timeoutSeconds)),
          trigger.timeoutSeconds * 1000,
        );
      });
      const response = await Promise.race([handler(event, context), timeout]);
      return this.#readResponse(records, response);
    } catch (error) {
      return { ok: false, error };
    } finally {
      clearInterval(beat);
      clearTimeout(timer);
    }
  }

  /**
   * A partial batch response counts only with `ReportBatchItemFailures`; otherwise Lambda ignores
   * what the function returns. An empty list, `{}` or null is success.
   * https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html
   */
  #readResponse(
    records: KafkaTriggerRecord[],
    // biome-ignore lint/suspicious/noConfusingVoidType: what a handler returns, as Lambda's types say
    response: KafkaBatchResponse | null | undefined | void,
  ): { ok: true } | { ok: false; error: unknown; resumeFrom?: number } {
    const reports =
      this.#o.trigger.errorControls?.functionResponseTypes.includes("ReportBatchItemFailures");
    const failures = reports ? (response?.batchItemFailures ?? []) : [];
    if (failures.length === 0) return { ok: true };
    let lowest = Number.POSITIVE_INFINITY;
    for (const failure of failures) {
      const id = failure?.itemIdentifier;
      const found = records.find(
        (r) => `${r.topic}-${r.partition}` === id?.partition && r.offset === Number(id?.offset),
      );
      if (found === undefined) return { ok: false, error: new InvalidBatchItemFailureError(id) };
      lowest = Math.min(lowest, found.offset);
    }
    return {
      ok: false,
      error: new Error(`${failures.length} batch item failure(s) reported`),
      resumeFrom: lowest,
    };
  }

  /** Records given up on go to the on-failure topic (if any) and are then committed past. */
  async #giveUp(
    records: KafkaTriggerRecord[],
    condition: FailureConditionName,
    invokeCount: number,
  ): Promise<void> {
    const { functionName, logger, trigger } = this.#o;
    this.#stats.recordsGivenUp += records.length;
    const topic = trigger.errorControls?.onFailureTopic;
    logger.error("giving up on records", {
      condition,
      records: records.length,
      firstOffset: records[0]?.offset,
      destination: topic ?? "(none: dropped)",
    });
    if (topic === undefined || this.#failureProducer === undefined) return;
    await this.#failureProducer.send({
      topic,
      acks: -1,
      messages: records.map((r) =>
        failureRecord(r, {
          functionName,
          condition,
          approximateInvokeCount: invokeCount,
          source: this.#source,
          batch: records,
        }),
      ),
    });
  }

  /** Waits before a retry (exponential, capped), heart-beating; false if the partition is lost meanwhile. */
  async #backoff(
    attempt: number,
    heartbeat: () => Promise<void>,
    live: () => boolean,
  ): Promise<boolean> {
    const { initialMs, maxMs } = this.#o.retryBackoff;
    const until = Date.now() + Math.min(maxMs, initialMs * 2 ** (attempt - 1));
    while (Date.now() < until) {
      if (!live()) return false;
      await heartbeat().catch(() => {});
      await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
    }
    return live();
  }
}
