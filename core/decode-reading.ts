import { base64IntoScratch, scanReading, scratchText } from "./decode-fast-path.ts";
import { describe, parseEventTime } from "./event-time.ts";
import { MAX_READING_MAGNITUDE, type Reading, type SourceRecord } from "./reading.ts";

/** Why a record went to the dead-letter topic. Stable codes: consumers may switch on them. */
export const BadRecordReason = {
  missingKey: "missing-key",
  missingValue: "missing-value",
  notJson: "not-json",
  notAnObject: "not-an-object",
  missingTs: "missing-ts",
  badTs: "bad-ts",
  badValue: "bad-value",
  tsTooFarAhead: "ts-too-far-ahead",
  keyTooLong: "key-too-long",
} as const;
export type BadRecordReasonCode = (typeof BadRecordReason)[keyof typeof BadRecordReason];

/**
 * The longest sensor id (UTF-8 bytes). Every window record carries it three times (key, header,
 * value), and Kafka refuses a record over the topic's `max.message.bytes` (1 MB by default, MSK's
 * too) on every retry: a longer id would stall its partition, so it is a bad record instead.
 */
export const MAX_SENSOR_ID_BYTES = 1024;
/** Base64 keys up to this length decode to fewer than MAX_SENSOR_ID_BYTES: no need to count. */
const SURELY_SHORT_KEY_BASE64 = 4 * Math.floor((MAX_SENSOR_ID_BYTES - 1) / 3);

/** Which timestamp is the event time: the payload's `ts` (default, as the seed) or Kafka's. */
export const TimestampSource = { payload: "payload", kafka: "kafka" } as const;
export type TimestampSourceName = (typeof TimestampSource)[keyof typeof TimestampSource];

export interface DecodeOptions {
  timestampSource: TimestampSourceName;
  /** How far the event time may be ahead of the record's Kafka timestamp. Default 1 day. */
  maxEventTimeSkewMs: number;
}

export type DecodedRecord =
  | { ok: true; reading: Reading }
  | { ok: false; reason: BadRecordReasonCode; detail: string };

/**
 * Decodes one trigger record into a reading, or says precisely why it is not one. Never throws:
 * a bad record must not fail the batch (that would stall its partition forever).
 *
 * Key: base64 UTF-8 sensor id. Value: base64 JSON `{"ts", "value"}`, or the seed producer's
 * double-encoded form, a JSON string holding that JSON.
 *
 * The common shapes are read from bytes by the fast path (see `decode-fast-path.ts`); whatever it
 * does not read, bad records included, goes through {@link decodeReadingReference}. The result is
 * the same either way (a property test compares them).
 *
 * @param sensorIds optional cache of decoded keys (base64 → sensor id): a fleet's sensors send
 *   many records each, so decoding each key once instead of once per record is a measurable saving.
 */
export const decodeReading = (
  record: SourceRecord,
  options: DecodeOptions,
  sensorIds?: Map<string, string>,
): DecodedRecord => {
  const { key, value } = record;
  if (key === undefined || key === null || key === "" || value === undefined || value === null)
    return decodeReadingReference(record, options, sensorIds);
  if (key.length > SURELY_SHORT_KEY_BASE64)
    return decodeReadingReference(record, options, sensorIds);
  const sensor = sensorOf(key, sensorIds);
  if (sensor.trim() === "") return decodeReadingReference(record, options, sensorIds);
  const length = base64IntoScratch(value);
  const scanned =
    length < 0
      ? undefined
      : scanReading(
          length,
          options.timestampSource === TimestampSource.payload,
          record.timestamp,
          options.maxEventTimeSkewMs,
        );
  if (scanned === undefined) return decodeReadingReference(record, options, sensorIds);
  return {
    ok: true,
    reading: { sensor, eventTime: scanned.eventTime, value: scanned.value, source: record },
  };
};

/** The sensor id a base64 key holds, from the cache or decoded (then cached) as the reference does. */
const sensorOf = (key: string, sensorIds: Map<string, string> | undefined): string => {
  let sensor = sensorIds?.get(key);
  if (sensor === undefined) {
    const length = base64IntoScratch(key);
    sensor = length < 0 ? Buffer.from(key, "base64").toString("utf8") : scratchText(length);
    sensorIds?.set(key, sensor);
  }
  return sensor;
};

/**
 * The decoder as specified, every record through `JSON.parse`: what `decodeReading` falls back to,
 * and the reference its fast path is tested against.
 */
export const decodeReadingReference = (
  record: SourceRecord,
  options: DecodeOptions,
  sensorIds?: Map<string, string>,
): DecodedRecord => {
  if (record.key === undefined || record.key === null || record.key === "") {
    return bad("missingKey", "the record has no key; the key must be the sensor id");
  }
  if (record.value === undefined || record.value === null) {
    return bad("missingValue", "the record has no value (a tombstone?); expected {ts, value}");
  }
  let sensor = sensorIds?.get(record.key);
  if (sensor === undefined) {
    sensor = Buffer.from(record.key, "base64").toString("utf8");
    sensorIds?.set(record.key, sensor);
  }
  if (sensor.trim() === "")
    return bad("missingKey", "the key is empty; the key must be the sensor id");
  const keyBytes = Buffer.byteLength(sensor);
  if (keyBytes > MAX_SENSOR_ID_BYTES) {
    return bad(
      "keyTooLong",
      `the key is ${keyBytes} bytes; a sensor id is at most ${MAX_SENSOR_ID_BYTES} bytes (every window record carries it three times, under Kafka's record size limit)`,
    );
  }

  let payload: unknown;
  const text = Buffer.from(record.value, "base64").toString("utf8");
  try {
    payload = JSON.parse(text);
    // The seed producer serializes the JSON text again, so the value is a JSON string holding it.
    if (typeof payload === "string") payload = JSON.parse(payload);
  } catch {
    return bad("notJson", `the value is not JSON: ${describe(text)}`);
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    return bad(
      "notAnObject",
      `the value must be a JSON object {ts, value}, got ${describe(payload)}`,
    );
  }
  const { ts, value } = payload as { ts?: unknown; value?: unknown };
  let eventTime = record.timestamp;
  if (options.timestampSource === TimestampSource.payload) {
    if (ts === undefined || ts === null)
      return bad("missingTs", `the value has no ts: ${describe(text)}`);
    const parsed = parseEventTime(ts);
    if (!parsed.ok) return bad("badTs", parsed.why);
    eventTime = parsed.time;
    const ahead = eventTime - record.timestamp;
    if (ahead > options.maxEventTimeSkewMs) {
      return bad(
        "tsTooFarAhead",
        `ts ${new Date(eventTime).toISOString()} is ${ahead} ms ahead of the record's Kafka timestamp; at most ${options.maxEventTimeSkewMs} ms allowed (MAX_EVENT_TIME_SKEW_MS)`,
      );
    }
  }
  if (typeof value !== "number" || !(Math.abs(value) <= MAX_READING_MAGNITUDE)) {
    return bad(
      "badValue",
      `value must be a finite number within ±${MAX_READING_MAGNITUDE}, got ${describe(value)}`,
    );
  }
  return {
    ok: true,
    reading: {
      sensor,
      eventTime,
      value,
      source: record,
    },
  };
};

const bad = (reason: keyof typeof BadRecordReason, detail: string): DecodedRecord => ({
  ok: false,
  reason: BadRecordReason[reason],
  detail,
});
