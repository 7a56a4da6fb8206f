import type { IHeaders, KafkaMessage } from "kafkajs";
import { KafkaEventSource, type KafkaTriggerEvent } from "../kafka-trigger-event.ts";
import {
  buildTriggerEvent,
  localClusterArn,
  type TimestampType,
  toTriggerRecord,
} from "../kafka-trigger-event-builder.ts";
import { EventFlavour, type EventFlavourName } from "../trigger-declaration.ts";
import { FixtureError } from "./errors.ts";

/**
 * One Kafka record as a producer would write it: the kit turns it into the record Lambda's trigger
 * delivers (base64 key and value, headers as signed bytes) with the harness's own builder.
 */
export interface PlainRecord {
  /** Text (UTF-8) or bytes; absent or null: a record without a key. */
  key?: string | Buffer | null;
  /**
   * Text (UTF-8) or bytes; any other value is written as its JSON text (so `{ ts, value }` is the
   * JSON object, and a string holding JSON, the seed producer's double encoding, stays a string).
   * Absent or null: a record without a value (a tombstone).
   */
  value?: string | Buffer | null | Record<string, unknown> | unknown[] | number | boolean;
  /** Header values as text (UTF-8) or bytes; an array repeats the header, in order. */
  headers?: Record<string, string | Buffer | readonly (string | Buffer)[]>;
  /** The Kafka timestamp, epoch ms or a Date. Default: {@link DEFAULT_TIMESTAMP} + 1 s per record. */
  timestamp?: number | Date;
  /** Default: the event's topic. */
  topic?: string;
  /** Default: the event's partition. */
  partition?: number;
  /** Default: the next offset of its topic-partition in this event. */
  offset?: number;
  timestampType?: TimestampType;
}

export interface KafkaEventOptions {
  /** `msk` (default, `eventSource: "aws:kafka"` with the cluster ARN) or `self-managed`. */
  flavour?: EventFlavourName;
  /** Default `mytopic`, the topic of AWS's examples. Give the function's trigger topic. */
  topic?: string;
  /** Default 0. */
  partition?: number;
  /** The offset of each topic-partition's first record. Default 0. */
  firstOffset?: number;
  /** What the event's `bootstrapServers` says. Default: the local stack's broker. */
  bootstrapServers?: readonly string[];
  /** MSK only. Default: the harness's stand-in cluster ARN (functions/local-aws.ts). */
  clusterArn?: string;
}

/** 2024-05-01T12:00:00Z: records without a timestamp get this one, plus a second per record. */
export const DEFAULT_TIMESTAMP = Date.UTC(2024, 4, 1, 12);
const DEFAULT_BROKERS = ["localhost:19092"] as const;

/**
 * The Kafka trigger event a function receives for these records, built exactly as the local
 * harness builds it from consumed messages: records grouped by `<topic>-<partition>`, each group in
 * the order given, `eventSourceArn` only for MSK.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html
 */
export const kafkaEvent = (
  records: readonly PlainRecord[],
  options: KafkaEventOptions = {},
): KafkaTriggerEvent => {
  const nextOffset = new Map<string, number>();
  const triggerRecords = records.map((plain, i) => {
    const topic = plain.topic ?? options.topic ?? "mytopic";
    const partition = plain.partition ?? options.partition ?? 0;
    const id = `${topic}-${partition}`;
    const offset = plain.offset ?? nextOffset.get(id) ?? options.firstOffset ?? 0;
    nextOffset.set(id, offset + 1);
    const timestamp =
      plain.timestamp instanceof Date
        ? plain.timestamp.getTime()
        : (plain.timestamp ?? DEFAULT_TIMESTAMP + i * 1000);
    // A consumed message as kafkajs hands it to the harness: the builder takes it from here.
    const message = {
      key: bytesOf(plain.key),
      value: bytesOf(plain.value),
      headers: (plain.headers ?? {}) as IHeaders,
      offset: String(offset),
      timestamp: String(timestamp),
      attributes: 0,
    } as KafkaMessage;
    return toTriggerRecord(topic, partition, message, plain.timestampType);
  });
  return buildTriggerEvent(
    {
      flavour: options.flavour ?? EventFlavour.msk,
      bootstrapServers: [...(options.bootstrapServers ?? DEFAULT_BROKERS)],
      clusterArn: options.clusterArn ?? localClusterArn(),
    },
    triggerRecords,
  );
};

const bytesOf = (v: PlainRecord["value"]): Buffer | null => {
  if (v === undefined || v === null) return null;
  if (Buffer.isBuffer(v)) return v;
  return Buffer.from(typeof v === "string" ? v : JSON.stringify(v));
};

/**
 * The same event in the other flavour: a self-managed event has no `eventSourceArn` and says
 * `SelfManagedKafka`; an MSK event says `aws:kafka` and names its cluster. Records are unchanged,
 * as they are the same in both.
 */
export const withFlavour = (
  event: KafkaTriggerEvent,
  flavour: EventFlavourName,
  clusterArn: string = localClusterArn(),
): KafkaTriggerEvent => {
  const { records, bootstrapServers } = event;
  if (flavour === EventFlavour.msk) {
    const arn = "eventSourceArn" in event ? event.eventSourceArn : clusterArn;
    return { eventSource: KafkaEventSource.msk, eventSourceArn: arn, bootstrapServers, records };
  }
  if (flavour === EventFlavour.selfManaged) {
    return { eventSource: KafkaEventSource.selfManaged, bootstrapServers, records };
  }
  throw new FixtureError(`flavour must be msk or self-managed, got "${String(flavour)}"`);
};
