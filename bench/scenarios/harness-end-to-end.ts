import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { defaultGeneratorOptions } from "../../harness/reading-generator.ts";
import { produceReadings } from "../../harness/reading-producer.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import type { BareConsumerInput, BareConsumerResult } from "../children/bare-consumer.ts";
import type { HarnessChildInput, HarnessChildResult } from "../children/harness.ts";
import {
  compared,
  count,
  perSecond,
  progress,
  type ResultRow,
  repeatPaired,
  summarize,
} from "../measure.ts";
import { runChild } from "./child-process.ts";

const kafka = () =>
  new Kafka({
    clientId: "bench",
    brokers: readStackEndpoints().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });

/** Fresh topics for one bench run: input with 6 partitions, output like agg-temperature's one. */
const createTopics = async (run: string) => {
  const topics = { raw: `bench-raw-temperature-${run}`, out: `bench-agg-temperature-${run}` };
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      // The readings' timestamps go days back (0..1 s apart): keep them past the broker's retention.
      {
        topic: topics.raw,
        numPartitions: 6,
        configEntries: [{ name: "retention.ms", value: "-1" }],
      },
      { topic: topics.out, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  return topics;
};

const deleteTopics = async (topics: string[]) => {
  const admin = kafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
};

/**
 * Fills `topic` with `total` readings from the project's synthetic producer (the seed's format and
 * 5 sensors, event time advancing 0..1 s per reading, keys spread by kafkajs' default partitioner).
 * Returns how many records each partition got.
 */
const prefill = async (topic: string, total: number): Promise<number[]> => {
  const producer = kafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await produceReadings(producer, {
    topic,
    count: total,
    fast: true,
    generator: { ...defaultGeneratorOptions, seed: 7 },
    progress: (n) => progress(`prefilled ${count(n)}/${count(total)}`),
  });
  await producer.disconnect();
  const admin = kafka().admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
};

/**
 * Scenario 3, and the harness part of scenario 4: records/s from a pre-filled 6-partition topic
 * through the harness and the real `aggregate-temperatures` (in-memory store, output produced to
 * Kafka), next to a bare kafkajs consumer reading the same topic, alternating, in the same run;
 * the harness with a function that does nothing (what building Lambda's events costs); and the
 * harness process's peak RSS. Each consumer runs in a fresh process with a fresh group.
 */
export const harnessScenario = async (options: {
  quick: boolean;
  sizes: readonly number[];
}): Promise<ResultRow[]> => {
  const total = options.quick ? 50_000 : 1_000_000;
  const repetitions = { warmups: 0, runs: options.quick ? 1 : 3 };
  const topics = await createTopics(Date.now().toString(36));
  progress(`harness end to end: prefilling ${count(total)} readings into ${topics.raw}`);
  const perPartition = await prefill(topics.raw, total);
  const spread = `per partition ${perPartition.map(count).join("/")}`;
  const rows: ResultRow[] = [];
  try {
    for (const batchSize of options.sizes) {
      progress(`harness end to end, batch ${count(batchSize)}: ${repetitions.runs} runs of each`);
      const peaks: number[] = [];
      const barePeaks: number[] = [];
      const noopSamples: number[] = [];
      let invocations = 0;
      const runHarness = (noopFunction: boolean) =>
        runChild<HarnessChildResult>(
          "harness.ts",
          {
            topic: topics.raw,
            groupId: `bench-harness-${randomUUID()}`,
            batchSize,
            batchingWindowSeconds: 0,
            startingPosition: "TRIM_HORIZON",
            total,
            noopFunction,
          } satisfies HarnessChildInput,
          {
            env: {
              STATE_STORE: "memory",
              OUTPUT_TOPIC: topics.out,
              LATE_TOPIC: topics.out,
              DEAD_LETTER_TOPIC: topics.out,
              KAFKA_BROKERS: readStackEndpoints().kafkaBrokers.join(","),
              LOG_LEVEL: "warn",
            },
          },
        );
      const samples = await repeatPaired(
        repetitions,
        async () => {
          const r = await runChild<BareConsumerResult>("bare-consumer.ts", {
            topic: topics.raw,
            total,
            batchSize,
          } satisfies BareConsumerInput);
          barePeaks.push(r.peakRssMb);
          return perSecond(r.records, r.ms);
        },
        async () => {
          // The harness with a function that does nothing: what the harness itself costs.
          const noop = await runHarness(true);
          noopSamples.push(perSecond(noop.records, noop.ms));
          const r = await runHarness(false);
          peaks.push(r.peakRssMb);
          invocations = r.invocations;
          return perSecond(r.records, r.ms);
        },
      );
      const value = summarize(samples.figure);
      const bare = summarize(samples.baseline);
      const label = `batch ${count(batchSize)}, ${count(total)} readings, 6 partitions`;
      rows.push(
        compared(
          {
            scenario: "3 harness end to end",
            case: label,
            metric: "records/s",
            value,
            note: `${spread}; ${count(invocations)} invocations`,
            ...(batchSize === 10_000
              ? {
                  target: ">= 80% of bare consumer",
                  met: value.median / bare.median >= 0.8,
                }
              : {}),
          },
          "bare kafkajs consumer",
          bare,
        ),
      );
      rows.push(
        compared(
          {
            scenario: "3 harness end to end",
            case: `${label}, a function that does nothing (the harness's own cost)`,
            metric: "records/s",
            value: summarize(noopSamples),
          },
          "bare kafkajs consumer",
          bare,
        ),
      );
      rows.push(
        compared(
          {
            scenario: "4 memory",
            case: `harness process, ${label}`,
            metric: "peak RSS MB",
            value: summarize(peaks),
            target: "< 256 MB",
            met: Math.max(...peaks) < 256,
          },
          "bare consumer process",
          summarize(barePeaks),
        ),
      );
    }
  } finally {
    await deleteTopics([topics.raw, topics.out]);
  }
  return rows;
};
