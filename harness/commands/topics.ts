import type { Admin, ITopicConfig, Kafka } from "kafkajs";
import { SensorWindowsError } from "../../lib/errors.ts";

/** The project's topics and their partition counts (the broker does not auto-create topics). */
export const projectTopics = [
  { topic: "raw-temperature", numPartitions: 3 },
  { topic: "agg-temperature", numPartitions: 1 },
  { topic: "agg-temperature-late", numPartitions: 1 },
  { topic: "raw-temperature-dlq", numPartitions: 1 },
] as const;

/** Creates whichever of `topics` is missing. Returns the names it created. */
export const ensureTopics = async (
  admin: Admin,
  topics: readonly { topic: string; numPartitions: number }[] = projectTopics,
): Promise<string[]> => {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  await createTopicsWithLeaders(admin, missing);
  return missing.map((t) => t.topic);
};

/** A topic just created still has a partition without a leader after the wait. */
export class TopicNotReadyError extends SensorWindowsError {
  constructor(topic: string, waitedMs: number) {
    super(
      `topic "${topic}" still has a partition without a leader ${waitedMs} ms after it was created: the broker is overloaded or short of disk; check it with npm run stack:status and try again`,
      { retryable: true },
    );
  }
}

/**
 * Creates `topics` and waits until each partition has a leader, so that producers and consumers
 * can use them at once. kafkajs's own `waitForLeaders` gives up after a few retries when a busy
 * broker still answers "does not host this topic-partition" for a topic it has just created;
 * this keeps asking the metadata until `timeoutMs`.
 */
export const createTopicsWithLeaders = async (
  admin: Admin,
  topics: readonly ITopicConfig[],
  timeoutMs = 30_000,
): Promise<void> => {
  if (topics.length === 0) return;
  await admin.createTopics({ waitForLeaders: false, topics: [...topics] });
  const deadline = Date.now() + timeoutMs;
  for (const { topic, numPartitions = 1 } of topics) {
    while (!(await hasLeaders(admin, topic, numPartitions))) {
      if (Date.now() > deadline) throw new TopicNotReadyError(topic, timeoutMs);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
};

const hasLeaders = async (admin: Admin, topic: string, partitions: number): Promise<boolean> => {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
  const found = metadata?.topics[0]?.partitions ?? [];
  return found.length === partitions && found.every((p) => p.leader >= 0);
};

/** Creates whichever of `topics` is missing through a short-lived admin client. Returns the names it created. */
export const createMissingTopics = async (
  kafka: Kafka,
  topics: readonly { topic: string; numPartitions: number }[] = projectTopics,
): Promise<string[]> => {
  const admin = kafka.admin();
  await admin.connect();
  return ensureTopics(admin, topics).finally(() => admin.disconnect());
};
