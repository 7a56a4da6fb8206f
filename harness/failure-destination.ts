import { randomUUID } from "node:crypto";
import type { KafkaTriggerRecord } from "../functions/kafka-trigger-event.ts";
import type { OutputRecord } from "../functions/record-sink.ts";

/** Why records were given up on. */
export const FailureCondition = {
  retriesExhausted: "RetriesExhausted",
  recordAgeExceeded: "RecordAgeExceeded",
  payloadTooLarge: "MaximumPayloadSizeExceeded",
} as const;
export type FailureConditionName = (typeof FailureCondition)[keyof typeof FailureCondition];

/**
 * What an on-failure Kafka destination receives for a record given up on, in the shape AWS
 * documents (one message per record, keyed like the original record):
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html
 */
export const failureRecord = (
  record: KafkaTriggerRecord,
  context: {
    functionName: string;
    condition: FailureConditionName;
    approximateInvokeCount: number;
    bootstrapServers: string;
    batchSize: number;
  },
): OutputRecord => ({
  key: record.key ? Buffer.from(record.key, "base64") : null,
  value: JSON.stringify({
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:us-east-1:123456789012:function:${context.functionName}`,
      condition: context.condition,
      approximateInvokeCount: context.approximateInvokeCount,
    },
    responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    version: "1.0",
    timestamp: new Date().toISOString(),
    KafkaBatchInfo: {
      batchSize: context.batchSize,
      bootstrapServers: context.bootstrapServers,
      recordsInfo: {
        [`${record.topic}-${record.partition}`]: {
          firstRecordOffset: String(record.offset),
          lastRecordOffset: String(record.offset),
          firstRecordTimestamp: new Date(record.timestamp).toISOString(),
          lastRecordTimestamp: new Date(record.timestamp).toISOString(),
        },
      },
    },
    payload: record,
  }),
});
