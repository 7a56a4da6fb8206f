import type { KafkaMessage } from "kafkajs";
import {
  KafkaEventSource,
  type KafkaTriggerEvent,
  type KafkaTriggerRecord,
} from "./kafka-trigger-event.ts";
import { EventFlavour, type EventFlavourName } from "./trigger-declaration.ts";

/*
 * How Lambda's Kafka trigger shapes the event it invokes a function with, in one place: the local
 * harness builds every event it delivers with these, and so does the testing kit
 * (`functions/testing/`) for unit tests, so a test's event is the harness's event. It lives in
 * functions/ rather than harness/ because the kit must not depend on the harness.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html
 */

/**
 * The topic's `message.timestamp.type`: kafkajs decodes it per record batch but does not expose
 * it, so the harness reads the topic's configuration once and passes it here.
 */
export type TimestampType = KafkaTriggerRecord["timestampType"];

/**
 * Turns a consumed Kafka message into a record exactly as Lambda's Kafka trigger delivers it:
 * key and value base64 (omitted when null, as real payloads do), headers as one-entry objects of
 * signed bytes (Java's `byte`), timestamp and its type from the record.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html
 */
export const toTriggerRecord = (
  topic: string,
  partition: number,
  message: KafkaMessage,
  timestampType: TimestampType = "CREATE_TIME",
): KafkaTriggerRecord => {
  const record: KafkaTriggerRecord = {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    timestampType,
    headers: headersOf(message),
  };
  if (message.key !== null && message.key !== undefined)
    record.key = message.key.toString("base64");
  if (message.value !== null && message.value !== undefined)
    record.value = message.value.toString("base64");
  return record;
};

/**
 * The record's headers as Lambda's one-entry objects. kafkajs has already gathered a repeated
 * name's values into an array, so those come out together, in their order, where Lambda
 * interleaves them with the other names as the record does (`harness/README.md`, "Records").
 */
const headersOf = (message: KafkaMessage): KafkaTriggerRecord["headers"] => {
  const headers: KafkaTriggerRecord["headers"] = [];
  const raw = message.headers;
  if (raw === undefined) return headers;
  for (const name in raw) {
    const value = raw[name];
    if (Array.isArray(value)) for (const v of value) headers.push({ [name]: signedBytes(v) });
    else headers.push({ [name]: signedBytes(value) });
  }
  return headers;
};

/** Bytes as Java serializes them: -128..127. */
export const signedBytes = (value: Buffer | string | undefined): number[] => {
  const bytes = typeof value === "string" ? Buffer.from(value) : (value ?? NO_BYTES);
  const out = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    out[i] = b > 127 ? b - 256 : b;
  }
  return out;
};
const NO_BYTES = Buffer.alloc(0);

export interface EventSource {
  flavour: EventFlavourName;
  bootstrapServers: string[];
  /** For the MSK flavour: a plausible cluster ARN. */
  clusterArn: string;
}

export { localClusterArn } from "./local-aws.ts";

/**
 * The event for one batch: records grouped by `"<topic>-<partition>"`, `bootstrapServers` as one
 * comma-separated string, `eventSourceArn` only for MSK (self-managed events have none).
 */
export const buildTriggerEvent = (
  source: EventSource,
  records: readonly KafkaTriggerRecord[],
): KafkaTriggerEvent => {
  const grouped = Object.fromEntries(groupByPartition(records, (r) => r));
  const bootstrapServers = source.bootstrapServers.join(",");
  return source.flavour === EventFlavour.msk
    ? {
        eventSource: KafkaEventSource.msk,
        eventSourceArn: source.clusterArn,
        bootstrapServers,
        records: grouped as never,
      }
    : { eventSource: KafkaEventSource.selfManaged, bootstrapServers, records: grouped as never };
};

/** Lambda's synchronous invocation payload limit, which closes a batch early. */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;

/** `{"topic":,"partition":,"offset":,"timestamp":,"timestampType":"","headers":}` */
const RECORD_KEYS_BYTES =
  '{"topic":,"partition":,"offset":,"timestamp":,"timestampType":"","headers":}'.length;
/** `,"key":""` and `,"value":""` */
const KEY_BYTES = ',"key":""'.length;
const VALUE_BYTES = ',"value":""'.length;
/** Characters of a number as JSON writes it; integers counted without making a string. */
const numberJsonBytes = (n: number): number => {
  if (!Number.isSafeInteger(n)) return String(n).length;
  let chars = n < 0 ? 2 : 1;
  for (let rest = Math.abs(n); rest >= 10; rest = Math.floor(rest / 10)) chars++;
  return chars;
};

/**
 * A string's JSON byte length, remembered: a batch has one topic and few header names, so the
 * same few strings come back record after record.
 */
const jsonStringBytes = (text: string): number => {
  let bytes = jsonBytesOf.get(text);
  if (bytes === undefined) {
    bytes = Buffer.byteLength(JSON.stringify(text));
    if (jsonBytesOf.size >= 1_000) jsonBytesOf.clear();
    jsonBytesOf.set(text, bytes);
  }
  return bytes;
};
const jsonBytesOf = new Map<string, number>();

/** The event's size without records and partition keys: the envelope, generously. */
export const EVENT_ENVELOPE_BYTES = 1024;

/** What a partition's entry adds to `records` besides its records: `"<topic>-<partition>":[],`. */
export const partitionKeyJsonBytes = (topic: string, partition: number): number =>
  jsonStringBytes(topic) + 1 + numberJsonBytes(partition) + ":[],".length;

/**
 * The event's size for `records` as the batch cutter counts it (the envelope, generously, each
 * partition's key once, each record and its comma): what is held against {@link MAX_EVENT_BYTES}.
 */
export const eventBytes = (records: readonly PolledRecord[]): number => {
  let bytes = EVENT_ENVELOPE_BYTES;
  const partitions = new Set<number>(); // an event's records share one topic
  for (const r of records) {
    if (!partitions.has(r.partition)) {
      partitions.add(r.partition);
      bytes += partitionKeyJsonBytes(r.topic, r.partition);
    }
    bytes += r.bytes + 1;
  }
  return bytes;
};

/**
 * A record as the mapping holds it: its coordinates, the fetched message, and the bytes its JSON
 * adds to the event (counted without writing it: the 6 MB limit needs the size, only the sandbox
 * needs the record).
 */
export interface PolledRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: TimestampType;
  message: KafkaMessage;
  /** `JSON.stringify(toTriggerRecord(...))`'s UTF-8 bytes. */
  bytes: number;
}

/** A consumed message as the mapping holds it, its JSON bytes counted. */
export const toPolledRecord = (
  topic: string,
  partition: number,
  message: KafkaMessage,
  timestampType: TimestampType = "CREATE_TIME",
): PolledRecord => {
  const offset = Number(message.offset);
  const timestamp = Number(message.timestamp);
  let bytes =
    RECORD_KEYS_BYTES +
    jsonStringBytes(topic) +
    numberJsonBytes(partition) +
    numberJsonBytes(offset) +
    numberJsonBytes(timestamp) +
    timestampType.length +
    messageHeadersJsonBytes(message);
  const { key, value } = message;
  if (key !== null && key !== undefined) bytes += KEY_BYTES + base64Length(key.length);
  if (value !== null && value !== undefined) bytes += VALUE_BYTES + base64Length(value.length);
  return { topic, partition, offset, timestamp, timestampType, message, bytes };
};

/** Characters of `n` bytes in base64 (padded, as Buffer writes it). */
const base64Length = (n: number): number => Math.ceil(n / 3) * 4;

/** `[{"name":[1,-2]},...]`'s bytes for a message's headers, one entry per value, as `headersOf` builds them. */
const messageHeadersJsonBytes = (message: KafkaMessage): number => {
  const raw = message.headers;
  let entries = 0;
  let bytes = 2; // []
  if (raw !== undefined) {
    for (const name in raw) {
      const value = raw[name];
      for (const v of Array.isArray(value) ? value : [value]) {
        const data = typeof v === "string" ? Buffer.from(v) : (v ?? NO_BYTES);
        // {"name":[...]} with commas between the values
        bytes += 2 + jsonStringBytes(name) + 3 + Math.max(0, data.length - 1);
        for (let i = 0; i < data.length; i++)
          bytes += SIGNED_BYTE_CHARS[data[i] as number] as number;
        entries++;
      }
    }
  }
  return bytes + Math.max(0, entries - 1);
};
/** Characters of each byte as Java's signed `byte` in JSON: "127", "-128"... */
const SIGNED_BYTE_CHARS = Array.from(
  { length: 256 },
  (_, b) => String(b > 127 ? b - 256 : b).length,
);

/**
 * `records` grouped by `"<topic>-<partition>"`, in the order the partitions first come, each
 * record turned into what the group holds. Records come in runs of one partition: the group is
 * looked up once per run, not once per record.
 */
const groupByPartition = <R extends { topic: string; partition: number }, V>(
  records: readonly R[],
  entryOf: (record: R) => V,
): Map<string, V[]> => {
  const grouped = new Map<string, V[]>();
  let list: V[] = [];
  let topic: string | undefined;
  let partition = -1;
  for (const r of records) {
    if (r.partition !== partition || r.topic !== topic) {
      topic = r.topic;
      partition = r.partition;
      const id = `${topic}-${partition}`;
      list = grouped.get(id) ?? [];
      grouped.set(id, list);
    }
    list.push(entryOf(r));
  }
  return grouped;
};
