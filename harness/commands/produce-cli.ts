import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { defaultGeneratorOptions } from "../producer/reading-generator.ts";
import { produceReadings } from "../producer/reading-producer.ts";
import { numberFlag, runCli } from "./cli-args.ts";
import { ensureTopics, projectTopics } from "./topics.ts";

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

runCli("produce", async () => {
  const { values } = parseArgs({
    options: {
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
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const count = numberFlag("count", values.count, 10_000, 1, 100_000_000);
  const rate =
    values.rate === undefined ? undefined : numberFlag("rate", values.rate, 1, 0.01, 1_000_000);
  const topic = values.topic ?? "raw-temperature";
  const kafka = new Kafka({
    clientId: "produce",
    brokers: readStackEndpoints().kafkaBrokers,
    logLevel: logLevel.ERROR,
  });
  // The broker does not create topics on demand: create this one if it is missing, with the
  // project's partition count for it (3 for a topic of its own).
  const admin = kafka.admin();
  await admin.connect();
  const numPartitions = projectTopics.find((t) => t.topic === topic)?.numPartitions ?? 3;
  const created = await ensureTopics(admin, [{ topic, numPartitions }]).finally(() =>
    admin.disconnect(),
  );
  if (created.length > 0)
    process.stderr.write(`produce: created topic ${topic} (${numPartitions} partitions)\n`);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
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
    fast: values.fast ?? false,
    generator: {
      ...defaultGeneratorOptions,
      sensors: numberFlag("sensors", values.sensors, 5, 1, 10_000_000),
      outOfOrderShare: numberFlag("out-of-order", values["out-of-order"], 0, 0, 1),
      lateShare: numberFlag("late", values.late, 0, 0, 1),
      malformedShare: numberFlag("malformed", values.malformed, 0, 0, 1),
      doubleEncoded: values["double-encoded"] ?? false,
      seed: numberFlag("seed", values.seed, Date.now() % 2 ** 31, 0, 2 ** 31),
    },
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
