import type { Aggregation } from "../core/aggregation.ts";
import { type BadRecordReasonCode, MAX_SENSOR_ID_BYTES } from "../core/decode-reading.ts";
import type { RecordCoordinates } from "../core/reading.ts";
import {
  type ClosedWindow,
  type LateReading,
  type WindowRules,
  windowResult,
} from "../core/window-engine.ts";
import { windowId } from "../core/window-spec.ts";
import type { ClosedWindowState } from "../core/window-state.ts";
import type { KafkaTriggerRecord } from "./kafka-trigger-event.ts";
import type { TextRecord } from "./record-sink.ts";

/** Header carrying `<sensor>:<start>`, so a consumer can drop the one duplicate a crash can cause. */
export const WINDOW_ID_HEADER = "window-id";
/** Header on dead letters carrying the reason code. */
export const DEAD_LETTER_REASON_HEADER = "dead-letter-reason";
/**
 * Header on late readings and dead letters carrying the source record's coordinates,
 * `<topic>-<partition>@<offset>`: their identity, so a consumer can drop the one duplicate a crash
 * between producing and marking can cause.
 */
export const SOURCE_RECORD_HEADER = "source-record";

/**
 * A closed window as the seed pipeline emits it (`time` = window end, the aggregate under the
 * aggregation's field name), plus the window bounds and the sensor.
 */
export const windowRecord = <O>(
  window: ClosedWindow<O>,
  aggregation: Aggregation<unknown, O>,
): TextRecord => {
  const { sensor, start, end, result, closedBy } = window;
  const bounds = boundsTexts(start, end, aggregation.outputField);
  const resultJson = bounds.json === undefined ? undefined : valueJson(result);
  const value =
    resultJson === undefined || !isTemplated(sensor, closedBy, start, end)
      ? JSON.stringify({
          sensor,
          start,
          end,
          time: end,
          [aggregation.outputField]: result,
          closedBy,
        })
      : windowJson(sensor, bounds, resultJson, closedBy);
  return windowOutput(sensor, bounds, value);
};

/**
 * `windowRecord(windowResult(rules, window), rules.aggregation)`: the record of a window the
 * engine closed, its aggregate written by the aggregation's `resultJson` when it has one (without
 * the result object and its `JSON.stringify`).
 */
export const closedWindowRecord = <S, O>(
  rules: WindowRules<S, O>,
  window: ClosedWindowState<S>,
): TextRecord => {
  const { aggregation } = rules;
  const { sensor, start, closedBy } = window;
  const end = start + rules.spec.sizeMs;
  const bounds = boundsTexts(start, end, aggregation.outputField);
  if (
    aggregation.resultJson === undefined ||
    bounds.json === undefined ||
    !isTemplated(sensor, closedBy, start, end)
  ) {
    return windowRecord(windowResult(rules, window), aggregation as Aggregation<unknown, O>);
  }
  const value = windowJson(sensor, bounds, aggregation.resultJson(window.state), closedBy);
  return windowOutput(sensor, bounds, value);
};

const windowOutput = (sensor: string, bounds: BoundsTexts, value: string): TextRecord => ({
  key: sensor,
  value,
  // windowId(sensor, start), its `:<start>` written once per window bounds
  headers: { [WINDOW_ID_HEADER]: `${sensor}${bounds.idSuffix}` },
});

/**
 * `JSON.stringify({ sensor, start, end, time, [outputField]: result, closedBy })`, written as a
 * template: the same text without building the object and walking it (one per closed window, and
 * a large fleet closes about one per reading), the part that depends only on the bounds written
 * once for all sensors. Only where the template is exact: see {@link isTemplated},
 * {@link templatedField} and {@link valueJson}; a unit test compares the two on random windows.
 */
const windowJson = (
  sensor: string,
  bounds: BoundsTexts,
  resultJson: string,
  closedBy: string,
): string =>
  joined(`{"sensor":${JSON.stringify(sensor)}${bounds.json}${resultJson}${closedByJson(closedBy)}`);

/** Whether the fields are of the types the template writes: strings and numbers, as typed. */
const isTemplated = (sensor: unknown, closedBy: unknown, start: unknown, end: unknown): boolean =>
  areStrings(sensor, closedBy) && areNumbers(start, end);

/** The texts of a window record that depend only on its bounds and the aggregate's name. */
interface BoundsTexts {
  /** What the texts were written for, besides the start (the cache's key). */
  end: number;
  outputField: string;
  /** `:<start>`: the window-id header after the sensor. */
  idSuffix: string;
  /** `,"start":<start>,"end":<end>,"time":<end>,"<field>":`; undefined where no template applies. */
  json: string | undefined;
}

/**
 * The bounds' texts, cached by start: a batch closes many sensors' windows with the same bounds,
 * and writing a 13-digit time is the dearest part of a record after the aggregate. Emptied when
 * full. A Map takes -0 and 0 as one key, whose texts are alike too.
 */
const boundsTexts = (start: number, end: number, outputField: string): BoundsTexts => {
  let texts = boundsCache.get(start);
  if (texts === undefined || texts.end !== end || texts.outputField !== outputField) {
    if (boundsCache.size >= MAX_CACHED_BOUNDS) boundsCache.clear();
    const field = templatedField(outputField);
    const endJson = numberJson(end);
    texts = {
      end,
      outputField,
      idSuffix: `:${start}`,
      json:
        field === undefined
          ? undefined
          : `,"start":${numberJson(start)},"end":${endJson},"time":${endJson},${field}:`,
    };
    boundsCache.set(start, texts);
  }
  return texts;
};

const boundsCache = new Map<number, BoundsTexts>();
const MAX_CACHED_BOUNDS = 4_096;

/** `,"closedBy":"<how>"}`, the record's end: one of a few texts. */
const closedByJson = (closedBy: string): string => {
  let json = closedByCache.get(closedBy);
  if (json === undefined) {
    if (closedByCache.size >= 16) closedByCache.clear();
    json = `,"closedBy":${JSON.stringify(closedBy)}}`;
    closedByCache.set(closedBy, json);
  }
  return json;
};

const closedByCache = new Map<string, string>();

/** A late reading with its window and how late it was. */
export const lateRecord = (late: LateReading): TextRecord => ({
  key: late.reading.sensor,
  value: lateJson(late),
  headers: {
    [WINDOW_ID_HEADER]: windowId(late.reading.sensor, late.windowStart),
    [SOURCE_RECORD_HEADER]: sourceRecordId(late.reading.source),
  },
});

/**
 * `JSON.stringify` of the late record's fields (sensor, the reading, its window, how late, the
 * source coordinates), written as a template: every field is a string or a number (as typed;
 * checked, as a missing one would be left out), whose JSON the template writes as
 * `JSON.stringify` does.
 */
const lateJson = (late: LateReading): string => {
  const { reading } = late;
  const { source } = reading;
  if (
    !areStrings(reading.sensor, source.topic) ||
    !areNumbers(reading.eventTime, reading.value) ||
    !areNumbers(late.windowStart, late.windowEnd) ||
    !areNumbers(late.windowClosedAt, late.streamTime) ||
    !areNumbers(late.lateByMs, source.partition) ||
    !areNumbers(source.offset, source.timestamp)
  ) {
    return JSON.stringify({
      sensor: reading.sensor,
      eventTime: reading.eventTime,
      value: reading.value,
      windowStart: late.windowStart,
      windowEnd: late.windowEnd,
      windowClosedAt: late.windowClosedAt,
      streamTime: late.streamTime,
      lateByMs: late.lateByMs,
      source: coordinates(source),
    });
  }
  return joined(
    `{"sensor":${JSON.stringify(reading.sensor)},"eventTime":${numberJson(reading.eventTime)},"value":${numberJson(reading.value)},"windowStart":${numberJson(late.windowStart)},"windowEnd":${numberJson(late.windowEnd)},"windowClosedAt":${numberJson(late.windowClosedAt)},"streamTime":${numberJson(late.streamTime)},"lateByMs":${numberJson(late.lateByMs)},"source":{"topic":${JSON.stringify(source.topic)},"partition":${numberJson(source.partition)},"offset":${numberJson(source.offset)},"timestamp":${numberJson(source.timestamp)}}}`,
  );
};

/** A number as JSON.stringify writes it: `String(n)` when finite (-0 too: "0"), else null. */
const numberJson = (n: number): string => (Number.isFinite(n) ? String(n) : "null");

/**
 * `text`, joined into one string. V8 keeps a concatenation as a rope, a tree of its pieces, until
 * something reads it; a record's value is kept until the sink has produced it, and as a rope it
 * is about twice the memory (and garbage-collection work) of one string. Reading a character
 * joins it.
 */
const joined = (text: string): string => {
  text.charCodeAt(0);
  return text;
};

const areStrings = (a: unknown, b: unknown): boolean =>
  typeof a === "string" && typeof b === "string";

const areNumbers = (a: unknown, b: unknown): boolean =>
  typeof a === "number" && typeof b === "number";

/**
 * A value's JSON as it is written as a property, or undefined when that needs the property name
 * (a `toJSON` method is called with it) or the property is left out (undefined, a function).
 */
const valueJson = (value: unknown): string | undefined => {
  if (typeof value === "object" && value !== null && "toJSON" in value) return undefined;
  return JSON.stringify(value) as string | undefined;
};

/**
 * `"<name>"` as the template writes the aggregate's key, or undefined where JSON.stringify would
 * not write it there: a name the record already has is overwritten in place, and an integer-like
 * one is an array index, which objects list first.
 */
const templatedField = (name: string): string | undefined => {
  let json = fieldJsonCache.get(name);
  if (json === undefined) {
    json = WINDOW_FIELDS.has(name) || /^\d+$/.test(name) ? "" : JSON.stringify(name);
    fieldJsonCache.set(name, json);
  }
  return json === "" ? undefined : json;
};

const WINDOW_FIELDS = new Set(["sensor", "start", "end", "time", "closedBy"]);
/** Field names as JSON, "" where the template does not apply: aggregations are few and fixed. */
const fieldJsonCache = new Map<string, string>();

/**
 * The largest dead letter carrying its original. Kafka refuses a record over the topic's
 * `max.message.bytes` (1 MB by default, MSK's too) on every retry, which would stall the
 * partition; a dead letter grows its original (base64 adds a third, headers as signed bytes up to
 * four times), so one near that size could not be sent.
 */
export const MAX_DEAD_LETTER_BYTES = 900_000;

/**
 * A bad record, with its reason, its coordinates and the original key, value and headers exactly
 * as delivered (base64 / signed bytes), so it can be inspected or replayed. Keyed like the original.
 * Past {@link MAX_DEAD_LETTER_BYTES} it carries the original's sizes instead of its bytes (and no
 * key if that is what is too long): `source` says where to read it while the topic keeps it.
 */
export const deadLetterRecord = (
  record: KafkaTriggerRecord,
  reason: BadRecordReasonCode,
  detail: string,
): TextRecord => {
  const key = record.key ? Buffer.from(record.key, "base64") : null;
  const letter = {
    reason,
    detail,
    source: { ...coordinates(record), timestampType: record.timestampType },
    original: {
      key: record.key ?? null,
      value: record.value ?? null,
      headers: record.headers ?? [],
    },
  };
  const value = JSON.stringify(letter);
  const fits = Buffer.byteLength(value) + (key?.length ?? 0) <= MAX_DEAD_LETTER_BYTES;
  const shortKey = key !== null && key.length <= MAX_SENSOR_ID_BYTES ? key : null;
  return {
    key: fits ? key : shortKey,
    value: fits ? value : JSON.stringify({ ...letter, original: originalSizes(record, shortKey) }),
    headers: {
      [DEAD_LETTER_REASON_HEADER]: reason,
      [SOURCE_RECORD_HEADER]: sourceRecordId(record),
    },
  };
};

/** What a dead letter too large to carry its original says of it instead. */
const originalSizes = (record: KafkaTriggerRecord, shortKey: Buffer | null) => ({
  key: shortKey === null ? null : (record.key ?? null),
  value: null,
  headers: [],
  omitted: {
    why: `over ${MAX_DEAD_LETTER_BYTES} bytes with it; read the original at source.offset`,
    keyBytes: record.key ? Buffer.byteLength(record.key, "base64") : 0,
    valueBytes: record.value ? Buffer.byteLength(record.value, "base64") : 0,
    headers: record.headers?.length ?? 0,
  },
});

const coordinates = (s: RecordCoordinates): RecordCoordinates => ({
  topic: s.topic,
  partition: s.partition,
  offset: s.offset,
  timestamp: s.timestamp,
});

/** `<topic>-<partition>@<offset>`: one Kafka record, wherever it is seen again. */
export const sourceRecordId = (s: RecordCoordinates): string =>
  `${s.topic}-${s.partition}@${s.offset}`;
