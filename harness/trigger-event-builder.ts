import type { KafkaMessage } from "kafkajs";
import type { KafkaTriggerEvent, KafkaTriggerRecord } from "../functions/kafka-trigger-event.ts";
import { EventFlavour, type EventFlavourName } from "../functions/trigger-declaration.ts";

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

const headersOf = (message: KafkaMessage): KafkaTriggerRecord["headers"] => {
  const headers: KafkaTriggerRecord["headers"] = [];
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) headers.push({ [name]: signedBytes(v) });
  }
  return headers;
};

/** Bytes as Java serializes them: -128..127. */
export const signedBytes = (value: Buffer | string | undefined): number[] => {
  const bytes = value === undefined ? Buffer.alloc(0) : Buffer.from(value);
  const out = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ((bytes[i] as number) << 24) >> 24;
  return out;
};

export interface EventSource {
  flavour: EventFlavourName;
  bootstrapServers: string[];
  /** For the MSK flavour: a plausible cluster ARN. */
  clusterArn: string;
}

/** A local stand-in for an MSK cluster ARN (the region and account are Lambda's documentation's). */
export const localClusterArn = (clusterName = "local") =>
  `arn:aws:kafka:us-east-1:123456789012:cluster/${clusterName}/00000000-0000-0000-0000-000000000000-1`;

/**
 * The event for one batch: records grouped by `"<topic>-<partition>"`, `bootstrapServers` as one
 * comma-separated string, `eventSourceArn` only for MSK (self-managed events have none).
 */
export const buildTriggerEvent = (
  source: EventSource,
  records: readonly KafkaTriggerRecord[],
): KafkaTriggerEvent => {
  const grouped: Record<string, KafkaTriggerRecord[]> = {};
  for (const r of records) {
    const id = `${r.topic}-${r.partition}`;
    const list = grouped[id] ?? [];
    list.push(r);
    grouped[id] = list;
  }
  const bootstrapServers = source.bootstrapServers.join(",");
  return source.flavour === EventFlavour.msk
    ? {
        eventSource: "aws:kafka",
        eventSourceArn: source.clusterArn,
        bootstrapServers,
        records: grouped as never,
      }
    : { eventSource: "SelfManagedKafka", bootstrapServers, records: grouped as never };
};

/** Lambda's synchronous invocation payload limit, which closes a batch early. */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;

/** The size a record adds to the serialized event (its JSON plus a separating comma). */
export const recordJsonBytes = (record: KafkaTriggerRecord): number =>
  Buffer.byteLength(JSON.stringify(record)) + 1;

/** The event's size without records: envelope and partition keys, generously. */
export const EVENT_ENVELOPE_BYTES = 1024;
