/**
 * The testing kit: everything a unit test of a Kafka-triggered handler needs, and nothing from the
 * harness or the project's own tests. A test reads: build the event, invoke, assert what the handler
 * produced.
 *
 * ```ts
 * const sink = new MemoryRecordSink();
 * const handle = createAlertHandler({ threshold: 30, topic: "alerts", sink, logger: silentLogger });
 * await handle(kafkaEvent([{ key: "Sensor1", value: { ts: 1714564800000, value: 31 } }]));
 * expect(sink.values("alerts")).toMatchObject([{ sensor: "Sensor1", value: 31 }]);
 * ```
 *
 * See functions/testing/README.md.
 */

export { silentLogger } from "../../lib/logger.ts";
export { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
export {
  headerBytes,
  headerText,
  keyBytes,
  keyText,
  recordsOf,
  valueBytes,
  valueText,
} from "../kafka-records.ts";
export type {
  KafkaBatchResponse,
  KafkaHandler,
  KafkaTriggerEvent,
  KafkaTriggerRecord,
} from "../kafka-trigger-event.ts";
export { testLambdaContext as lambdaContext } from "../lambda-context.ts";
export type { OutputRecord, RecordSink, TopicRecords } from "../record-sink.ts";
export { FixtureError } from "./errors.ts";
export { fixtureEvent, fixturePath, KIT_FIXTURES_DIR, kitFixtureNames } from "./fixtures.ts";
export {
  DEFAULT_TIMESTAMP,
  type KafkaEventOptions,
  kafkaEvent,
  type PlainRecord,
  withFlavour,
} from "./kafka-event.ts";
export { MemoryRecordSink } from "./memory-record-sink.ts";
