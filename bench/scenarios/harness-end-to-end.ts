import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { Kafka, logLevel } from "kafkajs";
import { buildFunction } from "../../deploy/build.ts";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import { HARNESS_NODE_FLAGS } from "../../harness/commands/node-flags.ts";
import { createTopicsWithLeaders } from "../../harness/commands/topics.ts";
import { defaultGeneratorOptions } from "../../harness/producer/reading-generator.ts";
import { produceReadings } from "../../harness/producer/reading-producer.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { ensureStateTable } from "../../state/dynamodb-state-table.ts";
import { bruteForceWindows, type ExpectedWindow, type SeedReading } from "../brute-force-oracle.ts";
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
import { profilingChildren, runChild } from "./child-process.ts";

const kafka = () =>
  new Kafka({
    clientId: "bench",
    brokers: readStackEndpoints().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });

/** Fresh topics for one bench run: input with 6 partitions, output like agg-temperature's one. */
// The readings' timestamps go days back (0..1 s apart): keep them past the broker's retention.
const KEEP_FOREVER = [{ name: "retention.ms", value: "-1" }];

/** A fresh topic (the input: 6 partitions; an output: one, like agg-temperature). */
const createTopic = async (topic: string, numPartitions: number) => {
  const admin = kafka().admin();
  await admin.connect();
  await createTopicsWithLeaders(admin, [{ topic, numPartitions, configEntries: KEEP_FOREVER }]);
  await admin.disconnect();
  return topic;
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
  const producer = kafka().producer(PRODUCER_CONFIG);
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

/** Every record of `topic` (it is complete: nothing is produced to it any more), in offset order per partition. */
const readTopic = async (
  topic: string,
  onMessage: (partition: number, key: string, value: string) => void,
): Promise<void> => {
  const admin = kafka().admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  let left = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  if (left === 0) return;
  const consumer = kafka().consumer({ groupId: `bench-read-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages)
          onMessage(batch.partition, m.key?.toString() ?? "", m.value?.toString() ?? "");
        left -= batch.messages.length;
        if (left <= 0) resolve();
      },
    });
  });
  await consumer.disconnect();
};

/** The seed's `ts` (naive ISO time with microseconds, UTC) as epoch ms. */
const seedTs = (ts: string): number => Date.parse(`${ts.slice(0, 23)}Z`);

/**
 * The windows brute force finds in the input topic: each sensor's readings in its partition's
 * order, which is the stream the function sees.
 */
const expectedWindows = async (topic: string): Promise<ExpectedWindow[]> => {
  const readings: SeedReading[] = [];
  await readTopic(topic, (partition, key, value) => {
    const r = JSON.parse(value) as { ts: string; value: number };
    readings.push({ sensor: key, ts: seedTs(r.ts), value: r.value, partition, offset: 0 });
  });
  return bruteForceWindows(readings);
};

/**
 * How many windows of brute force's are missing from `topic` or differ there, plus windows that
 * should not be there (a window emitted twice, identically, counts once: delivery is at least once).
 */
const windowsUnlike = async (topic: string, expected: readonly ExpectedWindow[]) => {
  const emitted = new Map<string, string>();
  await readTopic(topic, (_partition, _key, value) => {
    const w = JSON.parse(value) as {
      sensor: string;
      start: number;
      end: number;
      temperature: object;
    };
    emitted.set(`${w.sensor}|${w.start}`, JSON.stringify({ end: w.end, ...w.temperature }));
  });
  let unlike = 0;
  for (const { sensor, start, ...rest } of expected) {
    const found = emitted.get(`${sensor}|${start}`);
    if (found !== JSON.stringify(rest)) unlike++;
    emitted.delete(`${sensor}|${start}`);
  }
  return unlike + emitted.size;
};

/** The function's bundle, as `npm run build` makes it, in a temporary directory. */
const buildBundle = async () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-bundle-"));
  const built = await buildFunction("aggregate-temperatures", dir, {
    minify: !profilingChildren(),
  });
  return {
    module: pathToFileURL(join(built.dir, "index.mjs")).href,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
};

/** A fresh DynamoDB Local state table for one run. */
const dynamoTable = async () => {
  const client = new DynamoDBClient({
    endpoint: readStackEndpoints().dynamodbEndpoint,
    ...LOCAL_AWS,
  });
  const tableName = `bench-harness-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  await ensureStateTable(client, tableName);
  return {
    tableName,
    dispose: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => {});
      client.destroy();
    },
  };
};
const LOCAL_AWS = {
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
};

const NOOP_FUNCTION = new URL("../children/noop-function.mjs", import.meta.url).href;

/** What one harness run does: the function, its store, where its windows go. */
interface HarnessRun {
  module: string;
  store: "memory" | "dynamodb";
  outputTopic: string;
}

/** Largest RSS of the last half of a run over that of its second quarter: flat is 1. */
const rssGrowth = (samples: readonly number[]): number => {
  const q = Math.floor(samples.length / 4);
  if (q === 0) return 1;
  const early = Math.max(...samples.slice(q, 2 * q));
  return Math.max(...samples.slice(2 * q)) / early;
};

/** The pre-filled input every run of the scenario reads, and what brute force finds in it. */
interface Input {
  raw: string;
  total: number;
  /** How the readings spread over the partitions, for the notes. */
  spread: string;
  expected: ExpectedWindow[];
  bundle: Awaited<ReturnType<typeof buildBundle>>;
  repetitions: { warmups: number; runs: number };
  /** Creates a fresh output topic, deleted with the input at the end. */
  outputTopic: () => Promise<string>;
}

/**
 * Scenario 3, and the harness part of scenario 4: records/s from a pre-filled 6-partition topic
 * through the harness as `npm run harness` runs it (the function's bundle in sandboxes, the
 * in-memory store in the harness's main thread; at batch 10 000 also with DynamoDB Local), next to
 * a bare kafkajs consumer reading the same topic, alternating, in the same run; that consumer
 * producing the windows' records too (what Kafka alone costs the pipeline); the harness with a
 * function that does nothing (its own cost); the harness process's peak RSS and whether it stays
 * flat; and parity: every run's windows equal to brute force over the input. Each consumer runs
 * in a fresh process with a fresh group (and a fresh table, a fresh output topic).
 */
export const harnessScenario = async (options: {
  quick: boolean;
  sizes: readonly number[];
}): Promise<ResultRow[]> => {
  const total = options.quick ? 50_000 : 1_000_000;
  const run = Date.now().toString(36);
  const raw = await createTopic(`bench-raw-temperature-${run}`, 6);
  const topics = [raw];
  progress(`harness end to end: prefilling ${count(total)} readings into ${raw}`);
  const perPartition = await prefill(raw, total);
  const bundle = await buildBundle();
  const input: Input = {
    raw,
    total,
    spread: `per partition ${perPartition.map(count).join("/")}`,
    expected: await expectedWindows(raw),
    bundle,
    repetitions: { warmups: 0, runs: options.quick ? 1 : 3 },
    outputTopic: async () => {
      const topic = await createTopic(`bench-agg-temperature-${run}-${topics.length - 1}`, 1);
      topics.push(topic);
      return topic;
    },
  };
  const rows: ResultRow[] = [];
  try {
    for (const batchSize of options.sizes) {
      rows.push(...batchSizeRows(input, batchSize, await measureBatchSize(input, batchSize)));
    }
  } finally {
    bundle.dispose();
    await deleteTopics(topics);
  }
  return rows;
};

/** One harness run in its own process, over the whole input, into a fresh output topic. */
const runHarness = async (
  input: Input,
  batchSize: number,
  how: Omit<HarnessRun, "outputTopic">,
) => {
  const outputTopic = await input.outputTopic();
  const table = how.store === "dynamodb" ? await dynamoTable() : undefined;
  try {
    const result = await runChild<HarnessChildResult>(
      "harness.ts",
      {
        topic: input.raw,
        groupId: `bench-harness-${randomUUID()}`,
        batchSize,
        batchingWindowSeconds: 0,
        startingPosition: "TRIM_HORIZON",
        total: input.total,
        module: how.module,
      } satisfies HarnessChildInput,
      {
        nodeFlags: HARNESS_NODE_FLAGS,
        env: {
          STATE_STORE: how.store,
          ...(table === undefined
            ? {}
            : {
                STATE_TABLE: table.tableName,
                DYNAMODB_ENDPOINT: readStackEndpoints().dynamodbEndpoint,
                AWS_REGION: LOCAL_AWS.region,
                AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
                AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
              }),
          OUTPUT_TOPIC: outputTopic,
          LATE_TOPIC: outputTopic,
          DEAD_LETTER_TOPIC: outputTopic,
          KAFKA_BROKERS: readStackEndpoints().kafkaBrokers.join(","),
          LOG_LEVEL: "warn",
        },
      },
    );
    return { ...result, outputTopic };
  } finally {
    await table?.dispose();
  }
};

/** What the runs at one batch size measured. */
interface BatchSizeSamples {
  bare: number[];
  /** The bare consumer producing the windows' records too: Kafka's own cost of the pipeline. */
  kafkaAlone: number[];
  harness: number[];
  noop: number[];
  dynamodb: number[];
  peaks: number[];
  barePeaks: number[];
  growth: number[];
  unlike: number[];
  invocations: number;
}

/** At batch 10 000 the harness also runs with DynamoDB Local as its store. */
const withDynamoDb = (batchSize: number) => batchSize === 10_000;

/**
 * The bare consumer over the whole input, in its own process with the harness's Node flags (so
 * that memory compares like with like); with `produce`, it also produces the records of the
 * windows the function emits for what it reads, with the function's producer: what consuming and
 * producing alone cost, with no event, sandbox or window logic.
 */
const runBareConsumer = async (input: Input, batchSize: number, produce: boolean) => {
  const output = produce
    ? { topic: await input.outputTopic(), perReading: input.expected.length / input.total }
    : undefined;
  return runChild<BareConsumerResult>(
    "bare-consumer.ts",
    {
      topic: input.raw,
      total: input.total,
      batchSize,
      ...(output === undefined ? {} : { produce: output }),
    } satisfies BareConsumerInput,
    { nodeFlags: HARNESS_NODE_FLAGS },
  );
};

/** The bare consumer and the harness runs at one batch size, alternating. */
const measureBatchSize = async (input: Input, batchSize: number): Promise<BatchSizeSamples> => {
  progress(`harness end to end, batch ${count(batchSize)}: ${input.repetitions.runs} runs of each`);
  const m = {
    kafkaAlone: [] as number[],
    noop: [] as number[],
    dynamodb: [] as number[],
    peaks: [] as number[],
    barePeaks: [] as number[],
    growth: [] as number[],
    unlike: [] as number[],
    invocations: 0,
  };
  const measureRun = async (how: Omit<HarnessRun, "outputTopic">) => {
    const r = await runHarness(input, batchSize, how);
    if (how.module !== NOOP_FUNCTION)
      m.unlike.push(await windowsUnlike(r.outputTopic, input.expected));
    return r;
  };
  const paired = await repeatPaired(
    input.repetitions,
    async () => {
      const r = await runBareConsumer(input, batchSize, false);
      m.barePeaks.push(r.peakRssMb);
      const alone = await runBareConsumer(input, batchSize, true);
      m.kafkaAlone.push(perSecond(alone.records, alone.ms));
      return perSecond(r.records, r.ms);
    },
    async () => {
      // The harness with a function that does nothing: what the harness itself costs.
      const noop = await measureRun({ module: NOOP_FUNCTION, store: "memory" });
      m.noop.push(perSecond(noop.records, noop.ms));
      if (withDynamoDb(batchSize)) {
        const d = await measureRun({ module: input.bundle.module, store: "dynamodb" });
        m.dynamodb.push(perSecond(d.records, d.ms));
      }
      const r = await measureRun({ module: input.bundle.module, store: "memory" });
      m.peaks.push(r.peakRssMb);
      m.growth.push(rssGrowth(r.rssMb));
      m.invocations = r.invocations;
      return perSecond(r.records, r.ms);
    },
  );
  return { ...m, bare: paired.baseline, harness: paired.figure };
};

/** The rows of one batch size: throughput against the bare consumer, parity, memory. */
const batchSizeRows = (input: Input, batchSize: number, m: BatchSizeSamples): ResultRow[] => {
  const label = `batch ${count(batchSize)}, ${count(input.total)} readings, 6 partitions`;
  return [
    ...throughputRows(input, batchSize, label, m),
    {
      scenario: "3 harness end to end",
      case: `${label}, every run's output topic`,
      metric: "windows unlike brute force",
      value: summarize(m.unlike),
      note: `${count(input.expected.length)} windows expected per run`,
      target: "0",
      met: m.unlike.every((n) => n === 0),
    },
    ...memoryRows(label, m),
  ];
};

const throughputRows = (
  input: Input,
  batchSize: number,
  label: string,
  m: BatchSizeSamples,
): ResultRow[] => {
  const bare = summarize(m.bare);
  const kafkaAlone = summarize(m.kafkaAlone);
  const value = summarize(m.harness);
  const target = batchSize === 10_000 ? 0.8 : batchSize === 100 ? 0.4 : undefined;
  const dynamo = withDynamoDb(batchSize) ? summarize(m.dynamodb) : undefined;
  return [
    compared(
      {
        scenario: "3 harness end to end",
        case: `${label}, bundle in sandboxes, memory store`,
        metric: "records/s",
        value,
        note: `${input.spread}; ${count(m.invocations)} invocations`,
        ...(target === undefined
          ? {}
          : {
              target: `>= ${target * 100}% of bare consumer`,
              met: value.median / bare.median >= target,
            }),
      },
      "bare kafkajs consumer",
      bare,
    ),
    ...(dynamo === undefined
      ? []
      : [
          compared(
            {
              scenario: "3 harness end to end",
              case: `${label}, bundle in sandboxes, DynamoDB Local store, 5 sensors`,
              metric: "records/s",
              value: dynamo,
              target: ">= 60% of bare consumer",
              met: dynamo.median / bare.median >= 0.6,
            },
            "bare kafkajs consumer",
            bare,
          ),
        ]),
    compared(
      {
        scenario: "3 harness end to end",
        case: `${label}, bundle in sandboxes, memory store`,
        metric: "records/s",
        value,
      },
      "kafkajs alone (bare consumer producing the windows' records)",
      kafkaAlone,
    ),
    compared(
      {
        scenario: "3 harness end to end",
        case: `${label}, a bare kafkajs consumer producing the windows' records as it reads (${count(input.expected.length)} per run; the function's producer and record shape, no window logic)`,
        metric: "records/s",
        value: kafkaAlone,
      },
      "bare kafkajs consumer",
      bare,
    ),
    compared(
      {
        scenario: "3 harness end to end",
        case: `${label}, a function that does nothing (the harness's own cost)`,
        metric: "records/s",
        value: summarize(m.noop),
      },
      "bare kafkajs consumer",
      bare,
    ),
  ];
};

const memoryRows = (label: string, m: BatchSizeSamples): ResultRow[] => [
  compared(
    {
      scenario: "4 memory",
      case: `harness process, ${label}, memory store`,
      metric: "peak RSS MB",
      value: summarize(m.peaks),
      target: "<= 256 MB",
      met: Math.max(...m.peaks) <= 256,
    },
    "bare consumer process",
    summarize(m.barePeaks),
  ),
  {
    scenario: "4 memory",
    case: `harness process, ${label}, memory store: RSS over the run's last half / its second quarter`,
    metric: "RSS growth",
    value: summarize(m.growth),
    target: "<= 1.1 (flat)",
    met: m.growth.every((g) => g <= 1.1),
  },
];
