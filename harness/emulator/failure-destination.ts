import { randomUUID } from "node:crypto";
import type { KafkaTriggerEvent, KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import {
  buildTriggerEvent,
  type EventSource,
} from "../../functions/kafka-trigger-event-builder.ts";
import { localFunctionArn } from "../../functions/local-aws.ts";
import type { TextRecord } from "../../functions/record-sink.ts";

/** Why records were given up on. */
export const FailureCondition = {
  retriesExhausted: "RetriesExhausted",
  recordAgeExceeded: "RecordAgeExceeded",
  payloadTooLarge: "MaximumPayloadSizeExceeded",
} as const;
export type FailureConditionName = (typeof FailureCondition)[keyof typeof FailureCondition];

/**
 * What a Kafka on-failure destination receives for one record, field by field as AWS's example
 * (`test/fixtures/kafka-on-failure-destination-example.json`). Not the SNS/SQS shape: a Kafka
 * destination gets `recordInfo` for the one record and that record itself in `payload`, as a Kafka
 * event. https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html
 */
export interface KafkaFailureRecord {
  requestContext: {
    requestId: string;
    /** Qualified, as in AWS's example: `...:function:<name>:$LATEST`. */
    functionArn: string;
    condition: FailureConditionName;
    approximateInvokeCount: number;
  };
  /** Null when the function was never invoked with the records (AWS: MaximumPayloadSizeExceeded). */
  responseContext: { statusCode: number; executedVersion: string; functionError: string } | null;
  version: "1.0";
  /** When the records were given up on, ISO 8601. */
  timestamp: string;
  KafkaBatchInfo: {
    /** Records in the batch given up on. */
    batchSize: number;
    /** The MSK cluster; absent for self-managed Kafka, whose events have no ARN either. */
    eventSourceArn?: string;
    bootstrapServers: string;
    /** Bytes of the batch's event, as the function was (or would have been) invoked with it. */
    payloadSize: number;
    recordInfo: { offset: string; timestamp: string };
  };
  /** The trigger's event, holding this record alone. */
  payload: KafkaTriggerEvent;
}

/** What the records given up on together share: one request, one moment, one event size. */
interface BatchFailure {
  requestId: string;
  timestamp: string;
  payloadSize: number;
}
const batchFailures = new WeakMap<readonly KafkaTriggerRecord[], BatchFailure>();

/**
 * The message an on-failure Kafka destination receives for `record`, one of the records of `batch`
 * given up on: the document above as JSON, keyed like the original record (AWS: "the same
 * partition key"; none, hence round-robin, when the record had none).
 *
 * Where AWS is silent: `batchSize` and `payloadSize` describe the batch given up on (the page: "details
 * about the original batch"), and records given up on together share a request id and timestamp.
 */
export const failureRecord = (
  record: KafkaTriggerRecord,
  context: {
    functionName: string;
    condition: FailureConditionName;
    approximateInvokeCount: number;
    /** The mapping's event source: the payload is the event it builds for `record` alone. */
    source: EventSource;
    /** The records given up on together, `record` among them. */
    batch: readonly KafkaTriggerRecord[];
  },
): TextRecord => {
  const { source, batch } = context;
  let shared = batchFailures.get(batch);
  if (shared === undefined) {
    shared = {
      requestId: randomUUID(),
      timestamp: new Date().toISOString(),
      payloadSize: Buffer.byteLength(JSON.stringify(buildTriggerEvent(source, batch))),
    };
    batchFailures.set(batch, shared);
  }
  const payload = buildTriggerEvent(source, [record]);
  const document: KafkaFailureRecord = {
    requestContext: {
      requestId: shared.requestId,
      functionArn: localFunctionArn(context.functionName, "$LATEST"),
      condition: context.condition,
      approximateInvokeCount: context.approximateInvokeCount,
    },
    responseContext:
      context.approximateInvokeCount === 0
        ? null
        : { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    version: "1.0",
    timestamp: shared.timestamp,
    KafkaBatchInfo: {
      batchSize: batch.length,
      ...("eventSourceArn" in payload ? { eventSourceArn: payload.eventSourceArn } : {}),
      bootstrapServers: payload.bootstrapServers,
      payloadSize: shared.payloadSize,
      recordInfo: {
        offset: String(record.offset),
        timestamp: new Date(record.timestamp).toISOString(),
      },
    },
    payload,
  };
  return {
    key: record.key == null ? null : Buffer.from(record.key, "base64"),
    value: JSON.stringify(document),
  };
};
