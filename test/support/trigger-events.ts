import type { KafkaTriggerEvent, KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import { buildTriggerEvent, localClusterArn } from "../../functions/kafka-trigger-event-builder.ts";

/** The kit's fixture events (functions/testing/fixtures/), by name. */
export { fixtureEvent } from "../../functions/testing/index.ts";

const base64 = (text: string) => Buffer.from(text).toString("base64");

export interface ReadingRecordInput {
  sensor?: string;
  /** Epoch ms, or any `ts` payload value (ISO string...). */
  ts: unknown;
  value?: unknown;
  offset: number;
  partition?: number;
  topic?: string;
  /** Kafka record timestamp; defaults to `ts` when it is a number. */
  timestamp?: number;
}

/** A trigger record holding the reading `{ts, value}` keyed by `sensor`. */
export const readingRecord = (input: ReadingRecordInput): KafkaTriggerRecord => ({
  topic: input.topic ?? "raw-temperature",
  partition: input.partition ?? 0,
  offset: input.offset,
  timestamp: input.timestamp ?? (typeof input.ts === "number" ? input.ts : 1_714_564_800_000),
  timestampType: "CREATE_TIME",
  key: base64(input.sensor ?? "Sensor1"),
  value: base64(JSON.stringify({ ts: input.ts, value: input.value ?? 20 })),
  headers: [],
});

/** A trigger record with a raw value text (for malformed input). */
export const rawRecord = (
  offset: number,
  value: string | null,
  key: string | null = "Sensor1",
  partition = 0,
): KafkaTriggerRecord => ({
  topic: "raw-temperature",
  partition,
  offset,
  timestamp: 1_714_564_800_000,
  timestampType: "CREATE_TIME",
  key: key === null ? null : base64(key),
  value: value === null ? null : base64(value),
  headers: [],
});

/** An MSK event holding `records`, grouped by `<topic>-<partition>` in the order given. */
export const mskEvent = (records: readonly KafkaTriggerRecord[]): KafkaTriggerEvent =>
  buildTriggerEvent(
    { flavour: "msk", bootstrapServers: ["localhost:19092"], clusterArn: localClusterArn() },
    records,
  );
