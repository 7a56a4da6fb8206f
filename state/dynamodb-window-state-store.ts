import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  QueryCommand,
  TransactionCanceledException,
  TransactionConflictException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import type { SensorIndexes } from "../core/sensor-indexes.ts";
import type { PartitionState, SensorState } from "../core/window-state.ts";
import { StateTableDesign } from "./dynamodb-state-table.ts";
import { StateConflictError, StateStoreUnavailableError } from "./errors.ts";
import type {
  Loaded,
  LoadedState,
  StateChanges,
  StateRequest,
  VersionedWrite,
  WindowStateStore,
} from "./window-state-store.ts";

export interface DynamoWindowStateStoreOptions<S> {
  client: DynamoDBClient;
  tableName: string;
  /** How long a quiet sensor's state is kept (TTL), ms. */
  retentionMs: number;
  /** The sensor indexes to maintain (see `sensorIndexesFor`); none by default. */
  indexes?: SensorIndexes<S>;
  /** Wall clock, ms. */
  now?: () => number;
}

/** BatchGetItem reads at most 100 keys per request. */
const MAX_BATCH_GET = 100;
/** TransactWriteItems takes at most 100 actions per request. */
const MAX_TRANSACT_WRITE = 100;
/** Requests in flight at once for one batch's reads or writes. */
const PARALLEL_REQUESTS = 4;

const {
  partitionKey: PK,
  ttlAttribute: TTL,
  dueIndex,
  idleIndex,
  sensorKeyPrefix,
  partitionKeyPrefix,
} = StateTableDesign;

/**
 * Window state in DynamoDB: one item per sensor and one per partition (see `StateTableDesign`).
 *
 * Cost per batch: one BatchGetItem per 100 items read and one TransactWriteItems per 100 items
 * written, whatever the number of records. Writes are transactions so that the version condition
 * can be checked per item and up to 100 items land atomically (a batch of 5 sensors and 1 partition
 * is all-or-nothing); across chunks, sensors are written before partitions and the per-item offset
 * guard repairs any partial write on retry.
 */
export class DynamoWindowStateStore<S> implements WindowStateStore<S> {
  readonly #options: Required<DynamoWindowStateStoreOptions<S>>;

  constructor(options: DynamoWindowStateStoreOptions<S>) {
    this.#options = { now: Date.now, indexes: {}, ...options };
  }

  async load(request: StateRequest): Promise<LoadedState<S>> {
    const partitions = new Map<string, Loaded<PartitionState>>();
    const sensors = new Map<string, Loaded<SensorState<S>>>();
    for (const id of request.partitionIds) partitions.set(id, { value: undefined, version: 0 });
    for (const id of request.sensorIds) sensors.set(id, { value: undefined, version: 0 });
    const keys = [
      ...request.partitionIds.map((id) => partitionKeyPrefix + id),
      ...request.sensorIds.map((id) => sensorKeyPrefix + id),
    ];
    const nowSeconds = Math.floor(this.#options.now() / 1000);
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += MAX_BATCH_GET)
      chunks.push(keys.slice(i, i + MAX_BATCH_GET));
    await inParallel(chunks, PARALLEL_REQUESTS, async (chunk) => {
      for (const item of await this.#batchGet(chunk)) {
        const key = item[PK]?.S ?? "";
        const version = Number(item.version?.N ?? 0);
        const expired = Number(item[TTL]?.N ?? Number.POSITIVE_INFINITY) <= nowSeconds;
        // An expired item may still be there (TTL deletes lazily): treat it as absent, but keep
        // its version so the next write's condition matches what is really stored.
        const value = expired ? undefined : (JSON.parse(item.state?.S ?? "null") ?? undefined);
        if (key.startsWith(sensorKeyPrefix)) {
          sensors.set(key.slice(sensorKeyPrefix.length), { value, version });
        } else {
          partitions.set(key.slice(partitionKeyPrefix.length), { value, version });
        }
      }
    });
    return { partitions, sensors };
  }

  async findSensorsDue(partitionId: string, streamTime: number): Promise<string[]> {
    if (this.#options.indexes.dueAt === undefined) return [];
    return this.#querySensors(dueIndex, partitionId, streamTime);
  }

  async findSensorsIdle(now: number): Promise<string[]> {
    if (this.#options.indexes.idleAt === undefined) return [];
    const shards = Array.from({ length: idleIndex.shards }, (_, n) => `idle-${n}`);
    const found = await Promise.all(
      shards.map((shard) => this.#querySensors(idleIndex, shard, now)),
    );
    return found.flat();
  }

  /** Sensors in one index partition whose sort key is at or below `upTo`, every page. */
  async #querySensors(
    index: { name: string; partitionKey: string; sortKey: string },
    scope: string,
    upTo: number,
  ): Promise<string[]> {
    const sensors: string[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#call((c) =>
        c.send(
          new QueryCommand({
            TableName: this.#options.tableName,
            IndexName: index.name,
            KeyConditionExpression: "#scope = :scope AND #at <= :upTo",
            ExpressionAttributeNames: { "#scope": index.partitionKey, "#at": index.sortKey },
            ExpressionAttributeValues: { ":scope": { S: scope }, ":upTo": { N: String(upTo) } },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const key = item[PK]?.S;
        if (key?.startsWith(sensorKeyPrefix)) sensors.push(key.slice(sensorKeyPrefix.length));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return sensors;
  }

  async save(changes: StateChanges<S>): Promise<void> {
    const nowMs = this.#options.now();
    const actions: TransactWriteItem[] = [
      ...changes.sensors.map((w) =>
        this.#put(sensorKeyPrefix + w.value.sensor, w, nowMs, this.#indexAttributes(w.value)),
      ),
      ...changes.partitions.map((w) =>
        this.#put(partitionKeyPrefix + w.value.partitionId, w, nowMs, {}),
      ),
    ];
    // Partitions come last, in the last chunk, written only once every sensor chunk has landed:
    // a partition's applied offset must never run ahead of its sensors' (see `applyRecords`).
    const chunks: TransactWriteItem[][] = [];
    for (let i = 0; i < actions.length; i += MAX_TRANSACT_WRITE) {
      chunks.push(actions.slice(i, i + MAX_TRANSACT_WRITE));
    }
    const last = chunks.pop();
    await inParallel(chunks, PARALLEL_REQUESTS, (chunk) => this.#transactWrite(chunk));
    if (last !== undefined) await this.#transactWrite(last);
  }

  async #transactWrite(items: TransactWriteItem[]): Promise<void> {
    await this.#call((c) => c.send(new TransactWriteItemsCommand({ TransactItems: items })));
  }

  /** One BatchGetItem of up to 100 keys, retrying the keys DynamoDB leaves unprocessed. */
  async #batchGet(pks: string[]): Promise<Record<string, AttributeValue>[]> {
    const table = this.#options.tableName;
    const found: Record<string, AttributeValue>[] = [];
    let keys: Record<string, AttributeValue>[] = pks.map((pk) => ({ [PK]: { S: pk } }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const { Responses, UnprocessedKeys } = await this.#call((c) =>
        c.send(
          new BatchGetItemCommand({
            RequestItems: {
              [table]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: "#pk, #state, #version, #ttl",
                ExpressionAttributeNames: {
                  "#pk": PK,
                  "#state": "state",
                  "#version": "version",
                  "#ttl": TTL,
                },
              },
            },
          }),
        ),
      );
      found.push(...(Responses?.[table] ?? []));
      keys = UnprocessedKeys?.[table]?.Keys ?? [];
    }
    return found;
  }

  #put<T>(
    key: string,
    write: VersionedWrite<T>,
    nowMs: number,
    extra: Record<string, AttributeValue>,
  ): TransactWriteItem {
    const expected = write.expectedVersion;
    return {
      Put: {
        TableName: this.#options.tableName,
        Item: {
          [PK]: { S: key },
          state: { S: JSON.stringify(write.value) },
          version: { N: String(expected + 1) },
          [TTL]: { N: String(Math.floor((nowMs + this.#options.retentionMs) / 1000)) },
          ...extra,
        },
        ...(expected === 0
          ? {
              ConditionExpression: "attribute_not_exists(#pk)",
              ExpressionAttributeNames: { "#pk": PK },
            }
          : {
              ConditionExpression: "#version = :expected",
              ExpressionAttributeNames: { "#version": "version" },
              ExpressionAttributeValues: { ":expected": { N: String(expected) } },
            }),
      },
    };
  }

  /** The index attributes of a sensor item; absent attributes keep it out of a (sparse) index. */
  #indexAttributes(sensor: SensorState<S>): Record<string, AttributeValue> {
    const { dueAt, idleAt } = this.#options.indexes;
    const attributes: Record<string, AttributeValue> = {};
    const due = dueAt?.(sensor) ?? null;
    if (due !== null) {
      attributes[dueIndex.partitionKey] = { S: sensor.partitionId };
      attributes[dueIndex.sortKey] = { N: String(due) };
    }
    const idle = idleAt?.(sensor) ?? null;
    if (idle !== null) {
      attributes[idleIndex.partitionKey] = {
        S: `idle-${shardOf(sensor.sensor, idleIndex.shards)}`,
      };
      attributes[idleIndex.sortKey] = { N: String(idle) };
    }
    return attributes;
  }

  /** Runs one DynamoDB call, translating its failures into this area's errors. */
  async #call<R>(request: (client: DynamoDBClient) => Promise<R>): Promise<R> {
    try {
      return await request(this.#options.client);
    } catch (error) {
      throw translateError(error, this.#options.tableName);
    }
  }
}

/**
 * Maps DynamoDB errors onto what the caller can do about them. Conflicts and throttling are
 * retryable (the trigger retries the batch, which re-reads and repairs); anything else is not.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html#API_TransactWriteItems_Errors
 */
export const translateError = (error: unknown, tableName: string): Error => {
  if (error instanceof TransactionCanceledException) {
    const codes = (error.CancellationReasons ?? []).map((r) => r.Code ?? "None");
    if (codes.some((c) => c === "ConditionalCheckFailed" || c === "TransactionConflict")) {
      return new StateConflictError(
        `state in ${tableName} changed underneath this batch (${codes.filter((c) => c !== "None").join(", ")}); the batch will be retried`,
        { cause: error },
      );
    }
    return new StateStoreUnavailableError(
      `DynamoDB cancelled the state write to ${tableName} (${codes.join(", ")}); the batch will be retried`,
      { retryable: true, cause: error },
    );
  }
  if (error instanceof TransactionConflictException) {
    return new StateConflictError(
      `another transaction was writing the same state in ${tableName}; the batch will be retried`,
      { cause: error },
    );
  }
  const name = error instanceof Error ? error.name : "UnknownError";
  const retryable =
    RETRYABLE_ERRORS.has(name) ||
    (typeof error === "object" &&
      error !== null &&
      "$retryable" in error &&
      Boolean(error.$retryable));
  return new StateStoreUnavailableError(
    `DynamoDB request on ${tableName} failed: ${name}: ${error instanceof Error ? error.message : String(error)}${
      name === "ResourceNotFoundException" ? ` (create the table: STATE_TABLE=${tableName})` : ""
    }`,
    { retryable, cause: error },
  );
};

const RETRYABLE_ERRORS = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TimeoutError",
  "ECONNREFUSED",
  "ECONNRESET",
]);

const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt) * Math.random()));

/** Runs `work` over `items`, at most `limit` at a time. */
const inParallel = async <T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
) => {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
};

/** A stable shard number for a sensor id (FNV-1a), spreading the idle index over partitions. */
const shardOf = (id: string, shards: number): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % shards;
};
