import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { TOPIC_NAME } from "../../lib/env-settings.ts";
import { ConfigError } from "../../lib/errors.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { flagsOrUsage, runCli } from "./cli-args.ts";
import { commandKafka } from "./local-setup.ts";

const USAGE = `Usage: npm run watch -- [--topic NAME] [--from-beginning]

Prints the records of a topic as they arrive: partition, offset, key, headers and the value
(pretty JSON when it is JSON). Ctrl-C stops.

Options:
  --topic NAME        topic to watch (default agg-temperature)
  --from-beginning    start at the oldest record instead of new ones
  -h, --help          this help

Environment: KAFKA_BROKERS (default localhost:19092).
`;

/** A topic that does not exist is named, with the way out, before a consumer waits on it. */
const refuseMissingTopic = async (kafka: Kafka, topic: string, brokers: readonly string[]) => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new ConfigError(
        `topic "${topic}" does not exist on ${brokers.join(",")}: npm start (or npm run harness) creates the project's topics; name another with --topic`,
      );
    }
  } finally {
    await admin.disconnect();
  }
};

runCli("watch", async () => {
  const values = flagsOrUsage(
    { topic: { type: "string" }, "from-beginning": { type: "boolean" } },
    USAGE,
  );
  if (values === undefined) return 0;
  const topic = values.topic ?? "agg-temperature";
  if (!TOPIC_NAME.test.test(topic))
    throw new ConfigError(`--topic must be ${TOPIC_NAME.rule}, got "${topic}"`);
  const { kafkaBrokers } = readStackEndpoints();
  const kafka = commandKafka("watch", kafkaBrokers);
  await refuseMissingTopic(kafka, topic, kafkaBrokers);
  const consumer = kafka.consumer({ groupId: `watch-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: values["from-beginning"] ?? false });
  process.stderr.write(
    `watch: ${topic}${values["from-beginning"] ? " from the beginning" : ", new records"} (Ctrl-C stops)\n`,
  );
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const text = message.value?.toString() ?? "null";
      let value: unknown = text;
      try {
        value = JSON.parse(text);
      } catch {
        // not JSON: print as is
      }
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString()]),
      );
      process.stdout.write(
        `${JSON.stringify({ partition, offset: Number(message.offset), key: message.key?.toString() ?? null, headers, value })}\n`,
      );
    },
  });
  await new Promise<void>((resolve) => process.once("SIGINT", resolve));
  await consumer.disconnect();
  return 0;
});
