import type { KafkaTriggerEvent, KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import {
  buildTriggerEvent,
  type EventSource,
  type PolledRecord,
  signedBytes,
  type TimestampType,
} from "../../functions/kafka-trigger-event-builder.ts";

/**
 * An event on its way to the function: its records' bytes (keys, values, header names and values)
 * copied into one buffer, their coordinates in typed arrays, all of it transferred to the sandbox
 * without a copy. The sandbox builds from it the event Lambda's runtime would parse from the JSON
 * payload (`unpackEvent`): the same objects, base64 and all. Building it there rather than in the
 * poller's thread leaves that thread to fetch, and keeps each batch's records off its heap.
 * https://nodejs.org/docs/latest-v20.x/api/worker_threads.html#portpostmessagevalue-transferlist
 */
export interface PackedEvent {
  source: EventSource;
  /** Runs of consecutive records of one partition (one topic, one timestamp type), in event order. */
  runs: Run[];
  offsets: Float64Array;
  timestamps: Float64Array;
  /** Per record: key start, key length (-1: null), value start, value length (-1: null), first header, headers. */
  spans: Int32Array;
  /** Per header value: name start, name length, value start, value length. */
  headerSpans: Int32Array;
  bytes: Uint8Array;
}

interface Run {
  topic: string;
  partition: number;
  timestampType: TimestampType;
  count: number;
}

const SPAN = 6;
const HEADER_SPAN = 4;

/**
 * What an invocation carries: a Kafka trigger's event, packed, or any other event (a schedule's) as
 * its JSON payload.
 */
export type EventPayload = { packed: PackedEvent } | { json: string };

/** The event a function is invoked with, made from its payload in the thread that runs it. */
export const eventFrom = (payload: EventPayload): unknown =>
  "packed" in payload ? unpackEvent(payload.packed) : JSON.parse(payload.json);

/** What to transfer (not copy) with a payload posted to a sandbox. */
export const payloadTransferables = (payload: EventPayload): ArrayBuffer[] =>
  "packed" in payload ? transferablesOf(payload.packed) : [];

/** The buffers a packed event is transferred with. */
export const transferablesOf = (event: PackedEvent): ArrayBuffer[] => [
  event.offsets.buffer as ArrayBuffer,
  event.timestamps.buffer as ArrayBuffer,
  event.spans.buffer as ArrayBuffer,
  event.headerSpans.buffer as ArrayBuffer,
  event.bytes.buffer as ArrayBuffer,
];

/** Packs `records` (each partition's in a run, as a batch holds them) for one invocation. */
export const packEvent = (source: EventSource, records: readonly PolledRecord[]): PackedEvent => {
  const layout = layoutOf(records);
  const packed: PackedEvent = {
    source,
    runs: [],
    offsets: new Float64Array(records.length),
    timestamps: new Float64Array(records.length),
    spans: new Int32Array(records.length * SPAN),
    headerSpans: new Int32Array(layout.headers * HEADER_SPAN),
    bytes: new Uint8Array(layout.bytes),
  };
  const at = { byte: 0, header: 0 };
  for (let i = 0; i < records.length; i++) packRecord(packed, records[i] as PolledRecord, i, at);
  return packed;
};

/** How many bytes and header values the records hold. */
const layoutOf = (records: readonly PolledRecord[]) => {
  let bytes = 0;
  let headers = 0;
  for (const { message } of records) {
    bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0);
    forEachHeader(message.headers, (name, value) => {
      bytes += name.length + value.length;
      headers++;
    });
  }
  return { bytes, headers };
};

const packRecord = (
  packed: PackedEvent,
  record: PolledRecord,
  i: number,
  at: { byte: number; header: number },
): void => {
  const run = packed.runs.at(-1);
  const { topic, partition, timestampType } = record;
  if (run?.partition === partition && run.topic === topic && run.timestampType === timestampType)
    run.count++;
  else packed.runs.push({ topic, partition, timestampType, count: 1 });
  packed.offsets[i] = record.offset;
  packed.timestamps[i] = record.timestamp;
  const { key, value, headers } = record.message;
  const span = i * SPAN;
  at.byte = copyInto(packed, key, packed.spans, span, at.byte);
  at.byte = copyInto(packed, value, packed.spans, span + 2, at.byte);
  packed.spans[span + 4] = at.header;
  forEachHeader(headers, (name, headerValue) => {
    const h = at.header * HEADER_SPAN;
    at.byte = copyInto(packed, name, packed.headerSpans, h, at.byte);
    at.byte = copyInto(packed, headerValue, packed.headerSpans, h + 2, at.byte);
    at.header++;
  });
  packed.spans[span + 5] = at.header - (packed.spans[span + 4] as number);
};

/** Copies `data` at `byte` into the packed bytes, its start and length into `spans[index..]`. */
const copyInto = (
  packed: PackedEvent,
  data: Buffer | null | undefined,
  spans: Int32Array,
  index: number,
  byte: number,
): number => {
  spans[index] = byte;
  if (data === null || data === undefined) {
    spans[index + 1] = -1;
    return byte;
  }
  packed.bytes.set(data, byte);
  spans[index + 1] = data.length;
  return byte + data.length;
};

/** Calls `each` with every header's name and value as bytes, one call per value (kafkajs gives a list for a repeated name). */
const forEachHeader = (
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
  each: (name: Buffer, value: Buffer) => void,
): void => {
  if (headers === undefined) return;
  for (const name in headers) {
    const value = headers[name];
    const nameBytes = utf8Of(name);
    if (Array.isArray(value)) for (const v of value) each(nameBytes, bytesOf(v));
    else each(nameBytes, bytesOf(value));
  }
};

/** A header name's UTF-8 bytes, remembered: a topic's records carry the same few names. */
const utf8Of = (name: string): Buffer => {
  let bytes = nameBytes.get(name);
  if (bytes === undefined) {
    if (nameBytes.size >= 1_000) nameBytes.clear();
    bytes = Buffer.from(name);
    nameBytes.set(name, bytes);
  }
  return bytes;
};
const nameBytes = new Map<string, Buffer>();

const bytesOf = (value: Buffer | string | undefined): Buffer =>
  typeof value === "string" ? Buffer.from(value) : (value ?? EMPTY);
const EMPTY = Buffer.alloc(0);

/**
 * The event a packed event stands for: exactly what `buildTriggerEvent` makes from the records
 * `toTriggerRecord` makes of the fetched messages, and what JSON.parse makes of its payload.
 */
export const unpackEvent = (packed: PackedEvent): KafkaTriggerEvent => {
  const bytes = Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset, packed.bytes.length);
  const records: KafkaTriggerRecord[] = new Array(packed.offsets.length);
  let i = 0;
  for (const run of packed.runs) {
    for (const end = i + run.count; i < end; i++) {
      records[i] = unpackRecord(packed, bytes, run, i);
    }
  }
  return buildTriggerEvent(packed.source, records);
};

const unpackRecord = (
  packed: PackedEvent,
  bytes: Buffer,
  run: Run,
  i: number,
): KafkaTriggerRecord => {
  const span = i * SPAN;
  const { spans } = packed;
  const record: KafkaTriggerRecord = {
    topic: run.topic,
    partition: run.partition,
    offset: packed.offsets[i] as number,
    timestamp: packed.timestamps[i] as number,
    timestampType: run.timestampType,
    headers: unpackHeaders(packed, bytes, spans[span + 4] as number, spans[span + 5] as number),
  };
  const key = base64At(bytes, spans[span] as number, spans[span + 1] as number);
  if (key !== undefined) record.key = key;
  const value = base64At(bytes, spans[span + 2] as number, spans[span + 3] as number);
  if (value !== undefined) record.value = value;
  return record;
};

const base64At = (bytes: Buffer, start: number, length: number): string | undefined =>
  length < 0 ? undefined : bytes.toString("base64", start, start + length);

const unpackHeaders = (
  packed: PackedEvent,
  bytes: Buffer,
  first: number,
  count: number,
): KafkaTriggerRecord["headers"] => {
  const headers: KafkaTriggerRecord["headers"] = [];
  const spans = packed.headerSpans;
  for (let h = first * HEADER_SPAN; h < (first + count) * HEADER_SPAN; h += HEADER_SPAN) {
    const name = headerName(bytes, spans[h] as number, spans[h + 1] as number);
    const valueStart = spans[h + 2] as number;
    const value = bytes.subarray(valueStart, valueStart + (spans[h + 3] as number));
    headers.push({ [name]: signedBytes(value) });
  }
  return headers;
};

/** The last header name decoded: a batch's records mostly carry the same few. */
let lastName = { bytes: Buffer.alloc(0), text: "" };

const headerName = (bytes: Buffer, start: number, length: number): string => {
  const raw = bytes.subarray(start, start + length);
  if (!raw.equals(lastName.bytes))
    lastName = { bytes: Buffer.from(raw), text: raw.toString("utf8") };
  return lastName.text;
};
