import type { Kafka } from "kafkajs";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { defaultGeneratorOptions } from "../producer/reading-generator.ts";
import { produceReadings } from "../producer/reading-producer.ts";
import { type Flags, flagsOrUsage, numberFlag, runCli } from "./cli-args.ts";
import { commandKafka } from "./local-setup.ts";
import { createMissingTopics, projectTopics } from "./topics.ts";

const USAGE = `Usage: npm run produce -- [options]

Produces synthetic temperature readings like the seed tutorial's producer: keys Sensor1..SensorN,
values {"ts": <ISO time, UTC>, "value": 0..100}, a uuid header, a random 0..1 s pause each.

Options:
  --topic NAME           topic to write to (default raw-temperature; created if missing)
  --count N              readings to produce (default 10000)
  --rate N               readings per second instead of the seed's random pause
  --fast                 as fast as possible, in batches (event time still advances 0..1 s a reading)
  --sensors N            number of sensors (default 5)
  --out-of-order SHARE   share 0..1 of readings shifted back within the grace period (default 0)
  --late SHARE           share 0..1 of readings shifted back past their window's close (default 0)
  --malformed SHARE      share 0..1 of malformed records (default 0)
  --double-encoded       write values as the seed does: a JSON string holding the JSON
  --seed N               random seed (default: the time)
  -h, --help             this help

Environment: KAFKA_BROKERS (default localhost:19092).
`;

const OPTIONS = {
  topic: { type: "string" },
  count: { type: "string" },
  rate: { type: "string" },
  fast: { type: "boolean" },
  sensors: { type: "string" },
  "out-of-order": { type: "string" },
  late: { type: "string" },
  malformed: { type: "string" },
  "double-encoded": { type: "boolean" },
  seed: { type: "string" },
} as const;

/**
 * The broker does not create topics on demand: creates `topic` if it is missing, with the
 * project's partition count for it (3 for a topic of its own).
 */
const createTopicIfMissing = async (kafka: Kafka, topic: string) => {
  const numPartitions = projectTopics.find((t) => t.topic === topic)?.numPartitions ?? 3;
  const created = await createMissingTopics(kafka, [{ topic, numPartitions }]);
  if (created.length > 0)
    process.stderr.write(`produce: created topic ${topic} (${numPartitions} partitions)\n`);
};

/** The synthetic readings the flags ask for. */
const generatorFromFlags = (flags: Flags<typeof OPTIONS>) => ({
  ...defaultGeneratorOptions,
  sensors: numberFlag("sensors", flags.sensors, 5, 1, 10_000_000, { integer: true }),
  outOfOrderShare: numberFlag("out-of-order", flags["out-of-order"], 0, 0, 1),
  lateShare: numberFlag("late", flags.late, 0, 0, 1),
  malformedShare: numberFlag("malformed", flags.malformed, 0, 0, 1),
  doubleEncoded: flags["double-encoded"] ?? false,
  seed: numberFlag("seed", flags.seed, Date.now() % 2 ** 31, 0, 2 ** 31, { integer: true }),
});

runCli("produce", async () => {
  const flags = flagsOrUsage(OPTIONS, USAGE);
  if (flags === undefined) return 0;
  // Every flag is checked before the broker is contacted.
  const count = numberFlag("count", flags.count, 10_000, 1, 100_000_000, { integer: true });
  const rate =
    flags.rate === undefined ? undefined : numberFlag("rate", flags.rate, 1, 0.01, 1_000_000);
  const generator = generatorFromFlags(flags);
  const topic = flags.topic ?? "raw-temperature";
  const kafka = commandKafka("produce", readStackEndpoints().kafkaBrokers);
  await createTopicIfMissing(kafka, topic);
  const producer = kafka.producer(PRODUCER_CONFIG);
  await producer.connect();
  let stop = false;
  process.once("SIGINT", () => {
    stop = true;
  });
  const t0 = Date.now();
  const produced = await produceReadings(producer, {
    topic,
    count,
    ...(rate === undefined ? {} : { rate }),
    fast: flags.fast ?? false,
    generator,
    progress: (n) =>
      process.stderr.write(
        `produce: ${n}/${count} readings to ${topic} (${Math.round((n / (Date.now() - t0 + 1)) * 1000)}/s)\n`,
      ),
    stopped: () => stop,
  });
  await producer.disconnect();
  process.stderr.write(
    `produce: done, ${produced} readings in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  return 0;
});
