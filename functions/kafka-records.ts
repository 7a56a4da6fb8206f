import type { KafkaTriggerEvent, KafkaTriggerRecord } from "./kafka-trigger-event.ts";

/*
 * Reading the records of a Kafka trigger event, for any handler: Lambda delivers keys and values
 * base64-encoded (absent when the Kafka record has none) and each header as a one-entry object of
 * signed bytes, Java style.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html
 */

/**
 * Every record of the event: partition by partition, each partition's in offset order, as Lambda
 * delivers them (one event may hold several partitions of the topic).
 */
export const recordsOf = (event: KafkaTriggerEvent): KafkaTriggerRecord[] =>
  Object.values(event.records).flat();

/** The key as UTF-8 text, or null when the record has none. */
export const keyText = (record: KafkaTriggerRecord): string | null =>
  record.key === undefined || record.key === null
    ? null
    : Buffer.from(record.key, "base64").toString("utf8");

/** The value as UTF-8 text, or null when the record has none (a tombstone). */
export const valueText = (record: KafkaTriggerRecord): string | null =>
  record.value === undefined || record.value === null
    ? null
    : Buffer.from(record.value, "base64").toString("utf8");

/** The key's bytes as the producer wrote them, or null when the record has none. */
export const keyBytes = (record: KafkaTriggerRecord): Buffer | null =>
  record.key === undefined || record.key === null ? null : Buffer.from(record.key, "base64");

/**
 * The value's bytes as the producer wrote them, or null when the record has none: what to forward
 * when the value may not be UTF-8 text (Avro, compressed data), which `valueText` would alter.
 */
export const valueBytes = (record: KafkaTriggerRecord): Buffer | null =>
  record.value === undefined || record.value === null ? null : Buffer.from(record.value, "base64");

/** The bytes of the first header called `name`, or undefined when the record has none. */
export const headerBytes = (record: KafkaTriggerRecord, name: string): Buffer | undefined => {
  for (const header of record.headers ?? []) {
    const signed = header[name];
    // Signed bytes (-128..127) back to octets: & 0xff undoes Java's two's complement.
    if (signed !== undefined) return Buffer.from(signed.map((b) => b & 0xff));
  }
  return undefined;
};

/** The first header called `name` as UTF-8 text, or undefined when the record has none. */
export const headerText = (record: KafkaTriggerRecord, name: string): string | undefined =>
  headerBytes(record, name)?.toString("utf8");
