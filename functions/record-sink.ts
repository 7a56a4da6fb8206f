import type { Producer } from "kafkajs";
import { OutputProduceError } from "./errors.ts";

/** One record to produce. Keys and values as Kafka carries them. */
export interface OutputRecord {
  key: string | Buffer | null;
  /** Text (the project's JSON outputs), or bytes forwarded as they came. */
  value: string | Buffer;
  headers?: Record<string, string | Buffer>;
}

/** An output whose value is text: what the project's own records are (JSON). */
export type TextRecord = OutputRecord & { value: string };

export interface TopicRecords {
  topic: string;
  records: OutputRecord[];
}

/**
 * Where a function's output goes. Resolves only once every record is acknowledged, so a failure
 * fails the invocation and the trigger retries the batch: output is at least once. A failure
 * part-way is an `OutputProduceError` saying how many records, in order, went out before it.
 */
export interface RecordSink {
  send(batches: readonly TopicRecords[]): Promise<void>;
}

/**
 * How many records go into one produce request at most. kafkajs groups a request's messages by
 * partition by copying the group's array for every message (`[...current, message]` in
 * `producer/groupMessagesPerPartition.js`), quadratic in the request's size: 2 500 closed windows
 * in one request cost more CPU and garbage than the whole batch's aggregation. Requests of a few
 * hundred keep that negligible for one extra round trip per chunk.
 */
export const MAX_RECORDS_PER_REQUEST = 500;

/**
 * A sink over a connected kafkajs producer. Records go out in order, in requests of at most
 * {@link MAX_RECORDS_PER_REQUEST}, one after the other: records of one key go to one partition in
 * order (a request in flight is never overtaken by the next one), and `acks: -1` waits for all
 * in-sync replicas. https://kafka.js.org/docs/producing#producing-to-multiple-topics
 */
export const kafkaRecordSink = (producer: Producer): RecordSink => ({
  async send(batches) {
    let sent = 0;
    for (const topicMessages of requestsOf(batches, MAX_RECORDS_PER_REQUEST)) {
      try {
        await producer.sendBatch({ topicMessages, acks: -1 });
      } catch (error) {
        const topics = [...new Set(topicMessages.map((t) => t.topic))];
        throw new OutputProduceError(topics, error, sent);
      }
      for (const { messages } of topicMessages) sent += messages.length;
    }
  },
});

/**
 * The most bytes one produce request carries, by a cheap upper estimate (3 bytes a character).
 * Kafka refuses a partition's record batch over the topic's `max.message.bytes` (1 MB by default,
 * MSK's too) on every retry, and a request holds one batch per partition: a request under this
 * keeps every batch under it. A record over it goes alone (the broker judges it by itself).
 */
export const MAX_BYTES_PER_REQUEST = 900_000;

type Request = { topic: string; messages: OutputRecord[] }[];

/**
 * Splits the batches, in order, into requests of at most `max` records and `maxBytes` (estimated;
 * a bigger record alone); empty topics dropped.
 */
export const requestsOf = (
  batches: readonly TopicRecords[],
  max: number,
  maxBytes = MAX_BYTES_PER_REQUEST,
): Request[] => {
  const requests: Request[] = [];
  let request: Request = [];
  let size = 0;
  let bytes = 0;
  for (const { topic, records } of batches) {
    let messages: OutputRecord[] | undefined;
    for (const record of records) {
      const recordBytes = estimatedBytes(record);
      if (size === max || (size > 0 && bytes + recordBytes > maxBytes)) {
        requests.push(request);
        request = [];
        messages = undefined;
        size = 0;
        bytes = 0;
      }
      if (messages === undefined) {
        messages = [];
        request.push({ topic, messages });
      }
      messages.push(record);
      size++;
      bytes += recordBytes;
    }
  }
  if (size > 0) requests.push(request);
  return requests;
};

/** An upper bound of a record's bytes on the wire, without encoding it: 3 bytes a character. */
const estimatedBytes = (record: OutputRecord): number => {
  let bytes = textBytes(record.key) + textBytes(record.value);
  const headers = record.headers;
  if (headers !== undefined)
    for (const name in headers) bytes += textBytes(name) + textBytes(headers[name] ?? null);
  return bytes;
};

const textBytes = (text: string | Buffer | null): number =>
  text === null ? 0 : typeof text === "string" ? 3 * text.length : text.length;
