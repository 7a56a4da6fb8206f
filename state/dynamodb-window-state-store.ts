import { randomBytes } from "node:crypto";
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import {
  emptyPartitionState,
  type PartitionState,
  type SensorState,
} from "../core/window-state.ts";
import { StateTableDesign } from "./dynamodb-state-table.ts";
import { StateConflictError, StateFormatError, StateStoreUnavailableError } from "./errors.ts";
import { decodeSegment, encodeSegment, partsOf, type Segment } from "./partition-segments.ts";
import type {
  ClaimantName,
  CommitResult,
  MarkedAt,
  OutboxEntry,
  PartitionCommit,
  PartitionStateStore,
  StoredPartition,
} from "./window-state-store.ts";

export interface DynamoWindowStateStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** How long state is kept after its last write (TTL), ms. */
  retentionMs: number;
  /** Wall clock, ms. */
  now?: () => number;
}

/** The head's JSON: what a partition's state is made of. */
interface Head {
  v: number;
  streamTime: number | null;
  appliedOffset: number;
  /** The commit that wrote this head: how a commit whose reply was lost recognises itself. */
  token: string;
  /** The last full segment, then the deltas after it. */
  segments: SegmentRef[];
  /** Compressed bytes of the last full segment's sensors, and of the deltas since. */
  fullBytes: number;
  deltaBytes: number;
}

interface SegmentRef {
  id: string;
  parts: number;
  /** Wall-clock ms when written (a segment must be rewritten before its TTL). */
  at: number;
}

const HEAD_FORMAT = 1;
/** BatchGetItem reads at most 100 keys, BatchWriteItem writes at most 25 items per request. */
const MAX_BATCH_GET = 100;
const MAX_BATCH_WRITE = 25;
/** Deltas after which the next commit writes a full segment, whatever their size. */
const MAX_DELTAS = 24;
/** Below this, a full segment costs what a delta does: always write full. */
const SMALL_STATE_BYTES = 4_096;
/**
 * A segment's TTL, in retentions after it is written. The head's TTL is one retention after the
 * last commit, and a commit rewrites any segment older than half a retention, so the head outlives
 * its oldest segment's write by at most 1.5 retentions: segments kept 2 are never deleted while a
 * head still names them (a quiet partition would otherwise fail every load with StateFormatError
 * until its head expired, then restart empty). The extra storage costs next to nothing.
 */
const SEGMENT_LIFETIME_RETENTIONS = 2;
/** Attempts for the items DynamoDB leaves unprocessed in a batch request (throttling). */
const UNPROCESSED_ATTEMPTS = 8;

const { partitionKey: PK, ttlAttribute: TTL, idleIndex, idleScope } = StateTableDesign;
const { headKeyPrefix, segmentKeyPrefix } = StateTableDesign;

/**
 * Window state in DynamoDB, one head and a few segments per Kafka partition (see
 * `partition-segments.ts` and `StateTableDesign`).
 *
 * A commit is: write its segment (BatchWriteItem, under keys no other commit uses), then one
 * conditional UpdateItem of the head naming it. The head update is the commit point: atomic, so a
 * partition's applied offset never lands without its sensors, whatever the event mixes. No
 * transactions: a single-item condition is all the guard needs, at half a transaction's price.
 *
 * Cost per commit: one write unit per KB of the segment (only the sensors that changed, plus the
 * outputs decided) and about one for the head; marking outputs emitted is one small UpdateItem.
 * Reads happen only when a sandbox has no current copy (cold start, or another writer won a race):
 * one GetItem for the head and one BatchGetItem per 100 segment parts.
 */
export class DynamoWindowStateStore<S, X = unknown> implements PartitionStateStore<S, X> {
  readonly #options: Required<DynamoWindowStateStoreOptions>;
  /** The last head read or written per partition: lets a commit skip re-reading its own head. */
  readonly #heads = new Map<string, { version: number; head: Head }>();

  constructor(options: DynamoWindowStateStoreOptions) {
    this.#options = { now: Date.now, ...options };
  }

  async load(partitionId: string): Promise<StoredPartition<S>> {
    const item = await this.#getHead(partitionId);
    if (item === undefined) return emptyStored(partitionId, 0);
    const version = Number(item.version?.N ?? 0);
    if (isExpired(item, this.#options.now())) return emptyStored(partitionId, version);
    const head = parseHead(item, partitionId);
    this.#heads.set(partitionId, { version, head });
    const segments = await this.#readSegments<Segment<S, X>>(partitionId, head.segments);
    return {
      state: stateFrom(partitionId, head, segments),
      version,
      outbox: outboxOf(item),
    };
  }

  async commit(partitionId: string, change: PartitionCommit<S, X>): Promise<CommitResult> {
    const now = this.#options.now();
    const previous = await this.#headAt(partitionId, change.expectedVersion);
    const token = randomBytes(6).toString("hex");
    const version = change.expectedVersion + 1;
    const { segment, head } = this.#nextSegment(previous, change, now, `${version}.${token}`);
    head.token = token;
    const parts = partsOf(segment.bytes);
    await this.#writeParts(partitionId, head.segments.at(-1) as SegmentRef, parts, now);
    const item = await this.#updateHead(partitionId, change, head, version);
    this.#heads.set(partitionId, { version, head });
    return { version, outbox: outboxOf(item) };
  }

  async readOutputs(partitionId: string, entries: readonly OutboxEntry[]): Promise<Map<number, X>> {
    const refs = entries.map((e) => refFromString(e.ref));
    const segments = await this.#readSegments<Segment<S, X>>(partitionId, refs, {
      missing: "skip",
    });
    const found = new Map<number, X>();
    entries.forEach((entry, i) => {
      const outputs = segments[i]?.outputs;
      if (outputs !== undefined) found.set(entry.seq, outputs);
    });
    return found;
  }

  async markEmitted(partitionId: string, seqs: readonly number[], after: MarkedAt): Promise<void> {
    if (seqs.length === 0) return;
    const names: Record<string, string> = { "#outbox": "outbox", "#pk": PK };
    seqs.forEach((seq, i) => {
      names[`#s${i}`] = String(seq);
    });
    const remove = `REMOVE ${seqs.map((_, i) => `#outbox.#s${i}`).join(", ")}`;
    const key = { [PK]: { S: headKeyPrefix + partitionId } };
    try {
      // Re-index for the sweep only if nothing was committed since: otherwise its idleAt stands.
      await this.#send(
        new UpdateItemCommand({
          TableName: this.#options.tableName,
          Key: key,
          ...usedNames(
            { ...idleUpdate(after.idleAt, remove), ConditionExpression: "#version = :version" },
            { ...names, ...idleNames(), "#version": "version" },
          ),
          ExpressionAttributeValues: {
            ":version": { N: String(after.version) },
            ...idleValues(after.idleAt),
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw this.#translate(error);
      await this.#send(
        new UpdateItemCommand({
          TableName: this.#options.tableName,
          Key: key,
          UpdateExpression: remove,
          ConditionExpression: "attribute_exists(#pk)",
          ExpressionAttributeNames: names,
        }),
      ).catch((e: unknown) => {
        if (!(e instanceof ConditionalCheckFailedException)) throw this.#translate(e);
      });
    }
  }

  async markProduced(partitionId: string, seq: number, produced: number): Promise<void> {
    await this.#send(
      new UpdateItemCommand({
        TableName: this.#options.tableName,
        Key: { [PK]: { S: headKeyPrefix + partitionId } },
        UpdateExpression: "SET #outbox.#seq.#produced = :produced",
        ConditionExpression: "attribute_exists(#outbox.#seq)",
        ExpressionAttributeNames: {
          "#outbox": "outbox",
          "#seq": String(seq),
          "#produced": "produced",
        },
        ExpressionAttributeValues: { ":produced": { N: String(produced) } },
      }),
    ).catch((error: unknown) => {
      // The entry is gone: marked emitted meanwhile, nothing left to remember.
      if (!(error instanceof ConditionalCheckFailedException)) throw this.#translate(error);
    });
  }

  async findPartitionsIdle(now: number): Promise<string[]> {
    const partitions: string[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#call(
        new QueryCommand({
          TableName: this.#options.tableName,
          IndexName: idleIndex.name,
          KeyConditionExpression: "#scope = :scope AND #at <= :now",
          ExpressionAttributeNames: { "#scope": idleIndex.partitionKey, "#at": idleIndex.sortKey },
          ExpressionAttributeValues: { ":scope": { S: idleScope }, ":now": { N: String(now) } },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const key = item[PK]?.S;
        if (key?.startsWith(headKeyPrefix)) partitions.push(key.slice(headKeyPrefix.length));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return partitions;
  }

  /**
   * The segment this commit writes, and the head that will name it: a delta of the changed
   * sensors, or a full segment when the state is small, the deltas since the last full one
   * outweigh it, there are too many of them, or the oldest is half-way to its TTL.
   */
  #nextSegment(
    previous: Head | undefined,
    change: PartitionCommit<S, X>,
    now: number,
    id: string,
  ): { segment: ReturnType<typeof encodeSegment>; head: Head } {
    const outputs = change.outputs?.payload;
    const delta = encodeSegment<S, X>({
      full: false,
      sensors: changedSensors(change),
      removed: [...change.removed],
      outputs,
    });
    const base = previous?.segments ?? [];
    const deltaBytes = (previous?.deltaBytes ?? 0) + delta.stateBytes;
    const oldest = base[0]?.at ?? now;
    const full =
      previous === undefined ||
      previous.fullBytes + deltaBytes <= SMALL_STATE_BYTES ||
      deltaBytes > previous.fullBytes ||
      base.length >= MAX_DELTAS ||
      now - oldest >= this.#options.retentionMs / 2;
    const segment = full
      ? encodeSegment<S, X>({
          full: true,
          sensors: [...change.state.sensors.values()],
          removed: [],
          outputs,
        })
      : delta;
    const ref: SegmentRef = { id, parts: partsOf(segment.bytes).length, at: now };
    return {
      segment,
      head: {
        v: HEAD_FORMAT,
        streamTime: change.state.streamTime,
        appliedOffset: change.state.appliedOffset,
        token: "",
        segments: full ? [ref] : [...base, ref],
        fullBytes: full ? segment.stateBytes : (previous?.fullBytes ?? 0),
        deltaBytes: full ? 0 : deltaBytes,
      },
    };
  }

  /** The head at `version`: remembered from the last read or write, else read. */
  async #headAt(partitionId: string, version: number): Promise<Head | undefined> {
    if (version === 0) return undefined;
    const known = this.#heads.get(partitionId);
    if (known?.version === version) return known.head;
    const item = await this.#getHead(partitionId);
    if (item === undefined || Number(item.version?.N ?? 0) !== version) {
      throw new StateConflictError(
        `partition ${partitionId} in ${this.#options.tableName} is no longer at version ${version}: another invocation changed it; the work will be redone`,
      );
    }
    return isExpired(item, this.#options.now()) ? undefined : parseHead(item, partitionId);
  }

  /**
   * The commit point: the head names the new segment and takes the new version, only if it is
   * still at the version read. A retried request whose first attempt landed finds its own token.
   */
  async #updateHead(
    partitionId: string,
    change: PartitionCommit<S, X>,
    head: Head,
    version: number,
  ): Promise<Record<string, AttributeValue>> {
    const ttl = expiresAt(this.#options.now(), this.#options.retentionMs);
    try {
      const { Attributes } = await this.#send(
        new UpdateItemCommand({
          TableName: this.#options.tableName,
          Key: { [PK]: { S: headKeyPrefix + partitionId } },
          ...headUpdate(change, head, version, ttl),
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return this.#ownCommitOrConflict(partitionId, change, head, error);
      }
      throw this.#translate(error);
    }
  }

  /**
   * The head as this commit wrote it, when the head's condition failed only because an earlier
   * attempt of the same request landed (its reply lost): the head holds this commit's token.
   * Otherwise another writer got there first.
   */
  #ownCommitOrConflict(
    partitionId: string,
    change: PartitionCommit<S, X>,
    head: Head,
    error: ConditionalCheckFailedException,
  ): Record<string, AttributeValue> {
    const current = error.Item;
    if (current !== undefined && headToken(current) === head.token) return current;
    this.#heads.delete(partitionId);
    throw new StateConflictError(
      `partition ${partitionId} in ${this.#options.tableName} changed underneath this commit (expected version ${change.expectedVersion}, found ${current?.version?.N ?? "none"}); the work will be redone`,
      { cause: error },
    );
  }

  async #getHead(partitionId: string): Promise<Record<string, AttributeValue> | undefined> {
    const { Item } = await this.#call(
      new GetItemCommand({
        TableName: this.#options.tableName,
        Key: { [PK]: { S: headKeyPrefix + partitionId } },
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  /** Writes a segment's parts, retrying what DynamoDB leaves unprocessed (a bounded number of times). */
  async #writeParts(partitionId: string, ref: SegmentRef, parts: Buffer[], now: number) {
    const ttl = {
      N: String(expiresAt(now, SEGMENT_LIFETIME_RETENTIONS * this.#options.retentionMs)),
    };
    const requests: WriteRequest[] = parts.map((data, i) => ({
      PutRequest: {
        Item: { [PK]: { S: partKey(partitionId, ref.id, i) }, data: { B: data }, [TTL]: ttl },
      },
    }));
    for (let i = 0; i < requests.length; i += MAX_BATCH_WRITE) {
      let pending = requests.slice(i, i + MAX_BATCH_WRITE);
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > UNPROCESSED_ATTEMPTS)
          throw this.#unprocessed("BatchWriteItem", pending.length);
        if (attempt > 1) await backoff(attempt);
        const { UnprocessedItems } = await this.#call(
          new BatchWriteItemCommand({ RequestItems: { [this.#options.tableName]: pending } }),
        );
        pending = UnprocessedItems?.[this.#options.tableName] ?? [];
      }
    }
  }

  /**
   * Reads segments, in the order given, with strongly consistent reads. A missing segment is an
   * error (`missing: "fail"`), or left undefined (`"skip"`, for outputs that may have expired).
   */
  async #readSegments<T>(
    partitionId: string,
    refs: readonly SegmentRef[],
    options: { missing: "fail" | "skip" } = { missing: "fail" },
  ): Promise<(T | undefined)[]> {
    const keys = refs.flatMap((ref) =>
      Array.from({ length: ref.parts }, (_, i) => partKey(partitionId, ref.id, i)),
    );
    const parts = await this.#batchGet([...new Set(keys)]);
    return refs.map((ref) => {
      const chunks = Array.from({ length: ref.parts }, (_, i) =>
        parts.get(partKey(partitionId, ref.id, i)),
      );
      if (chunks.some((c) => c === undefined)) {
        if (options.missing === "skip") return undefined;
        throw new StateFormatError(
          `segment ${ref.id} of partition ${partitionId} in ${this.#options.tableName} is missing (expired? STATE_RETENTION_MS must outlast any retry); delete the partition's head item to start it afresh`,
        );
      }
      return decodeSegment(
        Buffer.concat(chunks as Uint8Array[]),
        `segment ${ref.id} of ${partitionId}`,
      ) as T;
    });
  }

  /** Items by key, every key read consistently, unprocessed keys retried (bounded). */
  async #batchGet(pks: string[]): Promise<Map<string, Uint8Array>> {
    const table = this.#options.tableName;
    const found = new Map<string, Uint8Array>();
    for (let i = 0; i < pks.length; i += MAX_BATCH_GET) {
      let keys: Record<string, AttributeValue>[] = pks
        .slice(i, i + MAX_BATCH_GET)
        .map((pk) => ({ [PK]: { S: pk } }));
      for (let attempt = 1; keys.length > 0; attempt++) {
        if (attempt > UNPROCESSED_ATTEMPTS) throw this.#unprocessed("BatchGetItem", keys.length);
        if (attempt > 1) await backoff(attempt);
        const { Responses, UnprocessedKeys } = await this.#call(
          new BatchGetItemCommand({
            RequestItems: { [table]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        for (const item of Responses?.[table] ?? []) {
          const pk = item[PK]?.S;
          const data = item.data?.B;
          if (pk !== undefined && data !== undefined) found.set(pk, data);
        }
        keys = UnprocessedKeys?.[table]?.Keys ?? [];
      }
    }
    return found;
  }

  #unprocessed(operation: string, count: number) {
    return new StateStoreUnavailableError(
      `DynamoDB left ${count} items of a ${operation} on ${this.#options.tableName} unprocessed after ${UNPROCESSED_ATTEMPTS} attempts (throttled); the batch will be retried`,
      { retryable: true },
    );
  }

  // biome-ignore lint/suspicious/noExplicitAny: each command's own output type flows through
  async #send(command: any): Promise<any> {
    return this.#options.client.send(command);
  }

  /** Runs one DynamoDB call, translating its failures into this area's errors. */
  // biome-ignore lint/suspicious/noExplicitAny: each command's own output type flows through
  async #call(command: any): Promise<any> {
    try {
      return await this.#options.client.send(command);
    } catch (error) {
      throw this.#translate(error);
    }
  }

  #translate(error: unknown): Error {
    return translateError(error, this.#options.tableName);
  }
}

/**
 * Maps DynamoDB errors onto what the caller can do about them. Throttling and network errors are
 * retryable (the trigger retries the batch, which re-reads and repairs); anything else is not.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 */
export const translateError = (error: unknown, tableName: string): Error => {
  if (error instanceof StateConflictError || error instanceof StateStoreUnavailableError)
    return error;
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

const emptyStored = <S>(partitionId: string, version: number): StoredPartition<S> => ({
  state: emptyPartitionState<S>(partitionId),
  version,
  outbox: [],
});

const isExpired = (item: Record<string, AttributeValue>, nowMs: number): boolean =>
  Number(item[TTL]?.N ?? Number.POSITIVE_INFINITY) <= Math.floor(nowMs / 1000);

const expiresAt = (nowMs: number, retentionMs: number) => Math.floor((nowMs + retentionMs) / 1000);

const parseHead = (item: Record<string, AttributeValue>, partitionId: string): Head => {
  let head: Head;
  try {
    head = JSON.parse(item.head?.S ?? "null");
  } catch (error) {
    throw new StateFormatError(`the head of partition ${partitionId} is not JSON`, {
      cause: error,
    });
  }
  if (head?.v !== HEAD_FORMAT || !Array.isArray(head.segments)) {
    throw new StateFormatError(
      `the head of partition ${partitionId} has format ${JSON.stringify(head?.v)}, this code reads format ${HEAD_FORMAT}: deploy the version that wrote it, or start from an empty table`,
    );
  }
  return head;
};

const headToken = (item: Record<string, AttributeValue>): string | undefined => {
  try {
    return (JSON.parse(item.head?.S ?? "null") as Head | null)?.token;
  } catch {
    return undefined;
  }
};

/** The state: the full segment, then each delta laid over it. */
const stateFrom = <S, X>(
  partitionId: string,
  head: Head,
  segments: (Segment<S, X> | undefined)[],
): PartitionState<S> => {
  const sensors = new Map<string, SensorState<S>>();
  for (const segment of segments) {
    if (segment === undefined) continue;
    if (segment.full) sensors.clear();
    for (const s of segment.sensors) sensors.set(s.sensor, s);
    for (const id of segment.removed) sensors.delete(id);
  }
  return { partitionId, streamTime: head.streamTime, appliedOffset: head.appliedOffset, sensors };
};

const changedSensors = <S, X>(change: PartitionCommit<S, X>): SensorState<S>[] => {
  const out: SensorState<S>[] = [];
  for (const id of change.changed) {
    const s = change.state.sensors.get(id);
    if (s !== undefined) out.push(s);
  }
  return out;
};

const outboxOf = (item: Record<string, AttributeValue>): OutboxEntry[] =>
  Object.entries(item.outbox?.M ?? {})
    .map(([seq, v]) => ({
      seq: Number(seq),
      claimedBy: (v.M?.by?.S ?? "batch") as ClaimantName,
      claimedAt: Number(v.M?.at?.N ?? 0),
      ref: v.M?.ref?.S ?? "",
      produced: Number(v.M?.produced?.N ?? 0),
    }))
    .sort((a, b) => a.seq - b.seq);

const outboxEntry = (
  outputs: { claimedBy: ClaimantName; claimedAt: number },
  ref: SegmentRef,
): AttributeValue => ({
  M: {
    by: { S: outputs.claimedBy },
    at: { N: String(outputs.claimedAt) },
    ref: { S: refToString(ref) },
  },
});

/**
 * The head update's expressions: the new head, version and TTL, the outbox entry of the commit's
 * outputs (a new head starts the outbox), the idle index's fields; on condition that the head is
 * still at the version read (or, for the first commit, absent).
 */
const headUpdate = <S, X>(
  change: PartitionCommit<S, X>,
  head: Head,
  version: number,
  ttl: number,
) => {
  const isNew = change.expectedVersion === 0;
  const entry = change.outputs && outboxEntry(change.outputs, head.segments.at(-1) as SegmentRef);
  const sets = ["#head = :head", "#version = :next", "#ttl = :ttl"];
  const values: Record<string, AttributeValue> = {
    ":head": { S: JSON.stringify(head) },
    ":next": { N: String(version) },
    ":ttl": { N: String(ttl) },
    ...idleValues(change.idleAt),
  };
  const names: Record<string, string> = {
    "#head": "head",
    "#version": "version",
    "#ttl": TTL,
    "#pk": PK,
    "#outbox": "outbox",
    ...idleNames(),
  };
  if (isNew) {
    sets.push("#outbox = :outbox");
    values[":outbox"] = { M: entry ? { [version]: entry } : {} };
  } else if (entry) {
    sets.push("#outbox.#seq = :entry");
    names["#seq"] = String(version);
    values[":entry"] = entry;
  }
  if (!isNew) values[":expected"] = { N: String(change.expectedVersion) };
  return {
    ...usedNames(
      {
        ...idleUpdate(change.idleAt, "", sets),
        ConditionExpression: isNew ? "attribute_not_exists(#pk)" : "#version = :expected",
      },
      names,
    ),
    ExpressionAttributeValues: values,
  };
};

const refToString = (ref: SegmentRef) => `${ref.id}/${ref.parts}/${ref.at}`;
const refFromString = (s: string): SegmentRef => {
  const [id = "", parts = "1", at = "0"] = s.split("/");
  return { id, parts: Number(parts), at: Number(at) };
};

const partKey = (partitionId: string, segmentId: string, part: number) =>
  `${segmentKeyPrefix}${partitionId}#${segmentId}#${part}`;

/** The idle index attributes: set when the partition has an idle time, removed otherwise. */
const idleUpdate = (idleAt: number | null, remove: string, sets: string[] = []) => {
  const set = idleAt === null ? sets : [...sets, "#idleScope = :idleScope", "#idleAt = :idleAt"];
  const removes = [remove.replace(/^REMOVE /, ""), idleAt === null ? "#idleScope, #idleAt" : ""]
    .filter((r) => r !== "")
    .join(", ");
  return {
    UpdateExpression: [
      set.length > 0 ? `SET ${set.join(", ")}` : "",
      removes ? `REMOVE ${removes}` : "",
    ]
      .filter((p) => p !== "")
      .join(" "),
  };
};
/** The expressions, with only the attribute names they use (DynamoDB refuses unused ones). */
const usedNames = <E extends { UpdateExpression: string; ConditionExpression: string }>(
  expressions: E,
  names: Record<string, string>,
): E & { ExpressionAttributeNames: Record<string, string> } => {
  const text = `${expressions.UpdateExpression} ${expressions.ConditionExpression}`;
  const used = Object.entries(names).filter(([name]) => new RegExp(`${name}\\b`).test(text));
  return { ...expressions, ExpressionAttributeNames: Object.fromEntries(used) };
};
const idleNames = () => ({ "#idleScope": idleIndex.partitionKey, "#idleAt": idleIndex.sortKey });
const idleValues = (idleAt: number | null): Record<string, AttributeValue> =>
  idleAt === null ? {} : { ":idleScope": { S: idleScope }, ":idleAt": { N: String(idleAt) } };

const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt) * Math.random()));
