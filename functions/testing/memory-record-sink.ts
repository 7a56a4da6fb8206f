import type { OutputRecord, RecordSink, TopicRecords } from "../record-sink.ts";

/**
 * A sink that keeps records in memory, per topic, in the order sent: give it to a handler in a unit
 * test (or a benchmark) instead of a Kafka producer, then assert on what the handler produced.
 */
export class MemoryRecordSink implements RecordSink {
  readonly topics = new Map<string, OutputRecord[]>();

  async send(batches: readonly TopicRecords[]): Promise<void> {
    for (const { topic, records } of batches) {
      if (records.length === 0) continue;
      const list = this.topics.get(topic) ?? [];
      list.push(...records);
      this.topics.set(topic, list);
    }
  }

  /** Records sent to `topic` so far. */
  records(topic: string): OutputRecord[] {
    return this.topics.get(topic) ?? [];
  }

  /** Values sent to `topic`, parsed as JSON. */
  values<T = unknown>(topic: string): T[] {
    return this.records(topic).map((r) => JSON.parse(r.value.toString()) as T);
  }

  /** Keys sent to `topic`, as text (null for a record without a key). */
  keys(topic: string): (string | null)[] {
    return this.records(topic).map((r) => (r.key === null ? null : r.key.toString()));
  }

  /** A header of each record sent to `topic`, as text (undefined where a record lacks it). */
  header(topic: string, name: string): (string | undefined)[] {
    return this.records(topic).map((r) => r.headers?.[name]?.toString());
  }

  /** The topics sent to so far, in the order first sent to. */
  topicNames(): string[] {
    return [...this.topics.keys()];
  }
}
