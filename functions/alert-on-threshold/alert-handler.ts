import { decodeReading, TimestampSource } from "../../core/decode-reading.ts";
import type { Logger } from "../../lib/logger.ts";
import { recordsOf } from "../kafka-records.ts";
import type { KafkaTriggerEvent } from "../kafka-trigger-event.ts";
import { SOURCE_RECORD_HEADER, sourceRecordId } from "../output-records.ts";
import type { OutputRecord, RecordSink } from "../record-sink.ts";

/** Everything the handler needs, injected: built once per cold start (handler.ts), or by a test. */
export interface AlertDependencies {
  /** A reading strictly above this raises an alert. */
  threshold: number;
  /** Where alerts go. */
  topic: string;
  sink: RecordSink;
  logger: Logger;
}

/** What one invocation did: logged, written as metrics, returned to tests. */
export interface AlertSummary {
  records: number;
  alerts: number;
  /** Records that are not readings: skipped (aggregate-temperatures dead-letters them). */
  skipped: number;
}

/** How far a reading's `ts` may be ahead of its Kafka timestamp: as aggregate-temperatures' default. */
const MAX_EVENT_TIME_SKEW_MS = 86_400_000;

/**
 * `alert-on-threshold`: each reading above the threshold becomes one alert on the alert topic,
 * keyed by sensor, in the order of the event (partition by partition, offset order within each).
 *
 * Stateless, so a retried batch (the trigger delivers at least once) produces its alerts again:
 * each carries the `source-record` header (`<topic>-<partition>@<offset>`) for a consumer to drop
 * the repeat. A record that is not a reading is skipped and counted, never fails the batch (it
 * would stall the partition): `aggregate-temperatures` already dead-letters it with its reason.
 */
export const createAlertHandler = (deps: AlertDependencies) => {
  const decodeOptions = {
    timestampSource: TimestampSource.payload,
    maxEventTimeSkewMs: MAX_EVENT_TIME_SKEW_MS,
  };
  return async (event: KafkaTriggerEvent): Promise<AlertSummary> => {
    const records = recordsOf(event);
    const sensors = new Map<string, string>();
    const alerts: OutputRecord[] = [];
    let skipped = 0;
    for (const record of records) {
      const decoded = decodeReading(record, decodeOptions, sensors);
      if (!decoded.ok) {
        skipped++;
        deps.logger.warn("record skipped: not a reading", {
          reason: decoded.reason,
          detail: decoded.detail,
          source: sourceRecordId(record),
        });
        continue;
      }
      const { sensor, eventTime, value } = decoded.reading;
      if (value <= deps.threshold) continue;
      alerts.push({
        key: sensor,
        value: JSON.stringify({
          sensor,
          time: eventTime,
          value,
          threshold: deps.threshold,
          source: { topic: record.topic, partition: record.partition, offset: record.offset },
        }),
        headers: { [SOURCE_RECORD_HEADER]: sourceRecordId(record) },
      });
    }
    // Resolves once every alert is acknowledged: a failure fails the invocation, and the trigger
    // retries the batch.
    if (alerts.length > 0) await deps.sink.send([{ topic: deps.topic, records: alerts }]);
    const summary = { records: records.length, alerts: alerts.length, skipped };
    deps.logger.info("batch processed", { ...summary });
    return summary;
  };
};
