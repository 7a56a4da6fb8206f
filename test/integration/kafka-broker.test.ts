import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import { createTopicsWithLeaders } from "../../harness/commands/topics.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";

const kafka = new Kafka({
  clientId: "broker-test",
  brokers: readStackEndpoints().kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const unique = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

describe("the local Kafka broker", () => {
  it("creates a 3-partition topic, keeps keyed messages in order per partition, and stores manual commits", async () => {
    const topic = unique("broker-test");
    const groupId = unique("broker-test-group");
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsWithLeaders(admin, [{ topic, numPartitions: 3 }]);
    expect(
      (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions,
    ).toHaveLength(3);

    const producer = kafka.producer(PRODUCER_CONFIG);
    await producer.connect();
    const keys = ["Sensor1", "Sensor2", "Sensor3", "Sensor4", "Sensor5"];
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 50 }, (_, i) => ({ key: keys[i % 5], value: String(i) })),
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: { key: string; value: number; partition: number }[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          seen.push({
            key: message.key?.toString() ?? "",
            value: Number(message.value?.toString()),
            partition,
          });
          await consumer.commitOffsets([
            { topic, partition, offset: String(Number(message.offset) + 1) },
          ]);
          if (seen.length === 50) resolve();
        },
      });
    });
    await consumer.disconnect();

    for (const key of keys) {
      const mine = seen.filter((s) => s.key === key);
      expect(new Set(mine.map((s) => s.partition)).size).toBe(1);
      expect(mine.map((s) => s.value)).toEqual([...mine.map((s) => s.value)].sort((a, b) => a - b));
    }
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    // A partition no key hashed to has no commit: offset -1.
    const total = committed[0]?.partitions.reduce(
      (sum, p) => sum + Math.max(0, Number(p.offset)),
      0,
    );
    expect(total).toBe(50);
    await admin.disconnect();
  });
});
