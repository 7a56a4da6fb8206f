import type { Admin, Kafka } from "kafkajs";

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
  if (missing.length > 0) await admin.createTopics({ waitForLeaders: true, topics: [...missing] });
  return missing.map((t) => t.topic);
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
