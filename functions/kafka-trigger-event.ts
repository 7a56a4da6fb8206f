import type {
  Context,
  MSKEvent,
  MSKRecord,
  SelfManagedKafkaEvent,
  SelfManagedKafkaRecord,
} from "aws-lambda";

/**
 * The event Lambda's Kafka event source mapping passes to a handler, in both flavours.
 *
 * Based on `@types/aws-lambda`'s MSKEvent / SelfManagedKafkaEvent, loosened where real payloads
 * differ from those types: a record's `key` or `value` is omitted (or `null`) when the Kafka record
 * has none. See https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html and
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html
 */
export type KafkaTriggerEvent = TolerantEvent<MSKEvent> | TolerantEvent<SelfManagedKafkaEvent>;

/** One record as delivered: base64 `key`/`value` (absent or null when the Kafka record has none). */
export type KafkaTriggerRecord = Tolerant<MSKRecord> | Tolerant<SelfManagedKafkaRecord>;

/** Headers as Lambda delivers them: one-entry objects of signed bytes (-128..127), Java style. */
export type KafkaTriggerHeaders = MSKRecord["headers"];

/** The `eventSource` values Lambda uses; old docs' `aws:SelfManagedKafka` is wrong. */
export const KafkaEventSource = {
  msk: "aws:kafka",
  selfManaged: "SelfManagedKafka",
} as const;
export type KafkaEventSourceName = keyof typeof KafkaEventSource;

/**
 * The partial batch response (provisioned mode with `ReportBatchItemFailures`): an empty list, an
 * empty object or `null` means success.
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html
 */
export interface KafkaBatchItemFailure {
  itemIdentifier: { partition: string; offset: number };
}
export interface KafkaBatchResponse {
  batchItemFailures: KafkaBatchItemFailure[];
}

/**
 * Any Lambda-style Kafka handler: what the trigger invokes, locally (the harness) and in AWS. It
 * may return nothing, or a partial batch response when the trigger reports batch item failures.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html
 */
export type KafkaHandler = (
  event: KafkaTriggerEvent,
  context: Context,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler may return nothing, as Lambda's types say
) => Promise<KafkaBatchResponse | null | undefined | void>;

type Tolerant<R> = Omit<R, "key" | "value"> & { key?: string | null; value?: string | null };
type TolerantEvent<E extends { records: Record<string, unknown[]> }> = Omit<E, "records"> & {
  records: Record<string, Tolerant<E["records"][string][number]>[]>;
};
