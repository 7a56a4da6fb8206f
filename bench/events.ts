import type { KafkaTriggerEvent, KafkaTriggerRecord } from "../functions/kafka-trigger-event.ts";

const T0 = Date.UTC(2026, 0, 1);

/**
 * Prebuilt MSK events of `batchSize` readings each, from `sensors` sensors taking turns: a
 * high-rate stream of 1,000 readings/s in event time (5 sensors: 200 readings/s each, about 2,000
 * per 10 s window), `ts` in the seed's ISO format. Offsets continue from `firstOffset` so that
 * every run's records are new to the store.
 */
export const readingEvents = (options: {
  batches: number;
  batchSize: number;
  sensors: number;
  firstOffset?: number;
  topic?: string;
}): KafkaTriggerEvent[] => {
  const topic = options.topic ?? "raw-temperature";
  const keys = Array.from({ length: options.sensors }, (_, i) =>
    Buffer.from(`Sensor${i + 1}`).toString("base64"),
  );
  let offset = options.firstOffset ?? 0;
  const events: KafkaTriggerEvent[] = [];
  for (let b = 0; b < options.batches; b++) {
    const records: KafkaTriggerRecord[] = new Array(options.batchSize);
    for (let i = 0; i < options.batchSize; i++) {
      const ts = T0 + offset;
      records[i] = {
        topic,
        partition: 0,
        offset,
        timestamp: ts,
        timestampType: "CREATE_TIME",
        key: keys[offset % options.sensors] as string,
        value: Buffer.from(
          `{"ts":"${new Date(ts).toISOString().replace("Z", "000")}","value":${offset % 101}}`,
        ).toString("base64"),
        headers: [],
      };
      offset++;
    }
    events.push({
      eventSource: "aws:kafka",
      eventSourceArn:
        "arn:aws:kafka:us-east-1:123456789012:cluster/bench/00000000-0000-0000-0000-000000000000-1",
      bootstrapServers: "localhost:19092",
      records: { [`${topic}-0`]: records } as never,
    });
  }
  return events;
};

/** The decode floor: what any handler must do at least, base64-decode and JSON-parse each record. */
export const decodeOnly = (events: readonly KafkaTriggerEvent[]): number => {
  let sum = 0;
  for (const event of events) {
    for (const records of Object.values(event.records)) {
      for (const r of records) {
        const key = Buffer.from(r.key ?? "", "base64").toString("utf8");
        const value = JSON.parse(Buffer.from(r.value ?? "", "base64").toString("utf8")) as {
          value: number;
        };
        sum += value.value + key.length;
      }
    }
  }
  return sum;
};
