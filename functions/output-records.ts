import type { Aggregation } from "../core/aggregation.ts";
import type { BadRecordReasonCode } from "../core/decode-reading.ts";
import type { RecordCoordinates } from "../core/reading.ts";
import type { ClosedWindow, LateReading } from "../core/window-engine.ts";
import { windowId } from "../core/window-spec.ts";
import type { KafkaTriggerRecord } from "./kafka-trigger-event.ts";
import type { OutputRecord } from "./record-sink.ts";

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
): OutputRecord => ({
  key: window.sensor,
  value: JSON.stringify({
    sensor: window.sensor,
    start: window.start,
    end: window.end,
    time: window.end,
    [aggregation.outputField]: window.result,
    closedBy: window.closedBy,
  }),
  headers: { [WINDOW_ID_HEADER]: windowId(window.sensor, window.start) },
});

/** A late reading with its window and how late it was. */
export const lateRecord = (late: LateReading): OutputRecord => ({
  key: late.reading.sensor,
  value: JSON.stringify({
    sensor: late.reading.sensor,
    eventTime: late.reading.eventTime,
    value: late.reading.value,
    windowStart: late.windowStart,
    windowEnd: late.windowEnd,
    windowClosedAt: late.windowClosedAt,
    streamTime: late.streamTime,
    lateByMs: late.lateByMs,
    source: coordinates(late.reading.source),
  }),
  headers: {
    [WINDOW_ID_HEADER]: windowId(late.reading.sensor, late.windowStart),
    [SOURCE_RECORD_HEADER]: sourceRecordId(late.reading.source),
  },
});

/**
 * A bad record, with its reason, its coordinates and the original key, value and headers exactly
 * as delivered (base64 / signed bytes), so it can be inspected or replayed. Keyed like the original.
 */
export const deadLetterRecord = (
  record: KafkaTriggerRecord,
  reason: BadRecordReasonCode,
  detail: string,
): OutputRecord => ({
  key: record.key ? Buffer.from(record.key, "base64") : null,
  value: JSON.stringify({
    reason,
    detail,
    source: { ...coordinates(record), timestampType: record.timestampType },
    original: {
      key: record.key ?? null,
      value: record.value ?? null,
      headers: record.headers ?? [],
    },
  }),
  headers: { [DEAD_LETTER_REASON_HEADER]: reason, [SOURCE_RECORD_HEADER]: sourceRecordId(record) },
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
