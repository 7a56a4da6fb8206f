import type { Producer } from "kafkajs";

/** One record to produce. Keys and values as Kafka carries them. */
export interface OutputRecord {
  key: string | Buffer | null;
  value: string;
  headers?: Record<string, string | Buffer>;
}

export interface TopicRecords {
  topic: string;
  records: OutputRecord[];
}

/**
 * Where a function's output goes. Resolves only once every record is acknowledged, so a failure
 * fails the invocation and the trigger retries the batch: output is at least once.
 */
export interface RecordSink {
  send(batches: readonly TopicRecords[]): Promise<void>;
}

/**
 * A sink over a connected kafkajs producer. One `sendBatch` per invocation: records of one key go
 * to one partition in order, and `acks: -1` waits for all in-sync replicas.
 * https://kafka.js.org/docs/producing#producing-to-multiple-topics
 */
export const kafkaRecordSink = (producer: Producer): RecordSink => ({
  async send(batches) {
    const topicMessages = batches
      .filter((b) => b.records.length > 0)
      .map((b) => ({ topic: b.topic, messages: b.records }));
    if (topicMessages.length === 0) return;
    await producer.sendBatch({ topicMessages, acks: -1 });
  },
});

/** A sink that keeps records in memory, per topic: for unit tests and benchmarks. */
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
    return this.records(topic).map((r) => JSON.parse(r.value) as T);
  }
}
