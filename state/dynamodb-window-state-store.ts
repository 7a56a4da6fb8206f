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
import { nextCloseTime, type PartitionState, type SensorState } from "../core/window-state.ts";
import { StateTableDesign } from "./dynamodb-state-table.ts";
import { StateConflictError, StateStoreUnavailableError } from "./errors.ts";
import type {
  Loaded,
  StateChanges,
  VersionedWrite,
  WindowStateStore,
} from "./window-state-store.ts";

export interface DynamoWindowStateStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** How long a quiet sensor's state is kept (TTL), ms. */
  retentionMs: number;
  /** Maintain the due-window index (needed by closing strategy "partition" only). */
  indexDueWindows: boolean;
  /** A window's close time (`end + grace`) from its start. */
  closeTimeOf: (start: number) => number;
  /** Wall clock, ms. */
  now?: () => number;
}

/** BatchGetItem reads at most 100 keys per request. */
const MAX_BATCH_GET = 100;
/** TransactWriteItems takes at most 100 actions per request. */
const MAX_TRANSACT_WRITE = 100;

const {
  partitionKey: PK,
  ttlAttribute: TTL,
  dueIndex,
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
  readonly #options: Required<DynamoWindowStateStoreOptions>;

  constructor(options: DynamoWindowStateStoreOptions) {
    this.#options = { now: Date.now, ...options };
  }

  loadPartitions(ids: readonly string[]): Promise<Map<string, Loaded<PartitionState>>> {
    return this.#load<PartitionState>(partitionKeyPrefix, ids);
  }

  loadSensors(ids: readonly string[]): Promise<Map<string, Loaded<SensorState<S>>>> {
    return this.#load<SensorState<S>>(sensorKeyPrefix, ids);
  }

  async findSensorsDue(partitionId: string, streamTime: number): Promise<string[]> {
    const sensors: string[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#call((c) =>
        c.send(
          new QueryCommand({
            TableName: this.#options.tableName,
            IndexName: dueIndex.name,
            KeyConditionExpression: "#scope = :scope AND #due <= :time",
            ExpressionAttributeNames: { "#scope": dueIndex.partitionKey, "#due": dueIndex.sortKey },
            ExpressionAttributeValues: {
              ":scope": { S: partitionId },
              ":time": { N: String(streamTime) },
            },
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
        this.#put(sensorKeyPrefix + w.value.sensor, w, nowMs, this.#dueAttributes(w.value)),
      ),
      ...changes.partitions.map((w) =>
        this.#put(partitionKeyPrefix + w.value.partitionId, w, nowMs, {}),
      ),
    ];
    // In order: partitions come last, so no partition item runs ahead of its sensors.
    for (let i = 0; i < actions.length; i += MAX_TRANSACT_WRITE) {
      const chunk = actions.slice(i, i + MAX_TRANSACT_WRITE);
      await this.#call((c) => c.send(new TransactWriteItemsCommand({ TransactItems: chunk })));
    }
  }

  async #load<T>(prefix: string, ids: readonly string[]): Promise<Map<string, Loaded<T>>> {
    const out = new Map<string, Loaded<T>>();
    for (const id of ids) out.set(id, { value: undefined, version: 0 });
    const nowSeconds = Math.floor(this.#options.now() / 1000);
    for (let i = 0; i < ids.length; i += MAX_BATCH_GET) {
      let keys: Record<string, AttributeValue>[] = ids
        .slice(i, i + MAX_BATCH_GET)
        .map((id) => ({ [PK]: { S: prefix + id } }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await backoff(attempt);
        const { Responses, UnprocessedKeys } = await this.#call((c) =>
          c.send(
            new BatchGetItemCommand({
              RequestItems: {
                [this.#options.tableName]: {
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
        for (const item of Responses?.[this.#options.tableName] ?? []) {
          const id = (item[PK]?.S ?? "").slice(prefix.length);
          const version = Number(item.version?.N ?? 0);
          const expired = Number(item[TTL]?.N ?? Number.POSITIVE_INFINITY) <= nowSeconds;
          // An expired item may still be there (TTL deletes lazily): treat it as absent, but keep
          // its version so the next write's condition matches what is really stored.
          const value = expired
            ? undefined
            : ((JSON.parse(item.state?.S ?? "null") as T | null) ?? undefined);
          out.set(id, { value, version });
        }
        keys = UnprocessedKeys?.[this.#options.tableName]?.Keys ?? [];
      }
    }
    return out;
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

  #dueAttributes(sensor: SensorState<S>): Record<string, AttributeValue> {
    if (!this.#options.indexDueWindows) return {};
    const dueAt = nextCloseTime(sensor, this.#options.closeTimeOf);
    return dueAt === null
      ? {}
      : {
          [dueIndex.partitionKey]: { S: sensor.partitionId },
          [dueIndex.sortKey]: { N: String(dueAt) },
        };
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
