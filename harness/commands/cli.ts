import { createWriteStream, existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { deployedWith, outputTopicNames } from "../../functions/function-declaration.ts";
import {
  kafkaFunctionNamed,
  kafkaFunctions,
  scheduledFunctions,
} from "../../functions/registry.ts";
import { resolveTrigger, type TriggerInput } from "../../functions/trigger-declaration.ts";
import { ConfigError } from "../../lib/errors.ts";
import { createLogger } from "../../lib/logger.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { type HarnessFunction, type ScheduledFunction, startHarness } from "../emulator/harness.ts";
import { numberFlag, runCli } from "./cli-args.ts";
import { prepareStateStore, useLocalAwsDefaults } from "./prepare-state-store.ts";
import { statusLines } from "./status-line.ts";
import { ensureTopics } from "./topics.ts";

const USAGE = `Usage: npm run harness -- [options]

Runs functions locally behind a real Kafka broker, the way AWS Lambda's Kafka trigger (event
source mapping) invokes them: batches per BatchSize / batching window / 6 MB mixing the partitions
it holds, one batch in flight per partition, offsets committed after success, retries. Each
concurrent invocation runs in its own sandbox (a worker thread, reused warm, ended at the timeout,
held to the function's declared MemorySize). Settings default to each function's
declared trigger (functions/<name>/trigger.ts); flags override them. Output topics the function
declares (functions/<name>/function.ts) are created if missing, as AWS's would be before a deploy.

Options:
  --function NAME               function to run (default aggregate-temperatures); known: ${kafkaFunctions()
    .map((f) => f.name)
    .join(", ")}
  --topic NAME                  source topic
  --batch-size N                BatchSize, 1..10000
  --batching-window S           MaximumBatchingWindowInSeconds, 0..300
  --starting-position P         LATEST | TRIM_HORIZON | AT_TIMESTAMP (with --starting-timestamp)
  --starting-timestamp SECONDS  StartingPositionTimestamp (Unix seconds)
  --group ID                    ConsumerGroupId
  --flavour F                   msk | self-managed (event shape)
  --timeout S                   function timeout, 1..840
  --max-retries N               MaximumRetryAttempts (-1 = infinite): turns on provisioned-mode error controls
  --max-record-age S            MaximumRecordAgeInSeconds (-1, or 60..604800)
  --bisect                      BisectBatchOnFunctionError
  --report-batch-item-failures  FunctionResponseTypes ReportBatchItemFailures
  --on-failure-topic NAME       on-failure destination topic
  --max-concurrency N           invocations in flight at once (default 10)
  --one-partition-per-event     cut each event from one partition (default: mix them, as Lambda)
  --store memory|dynamodb       state store (sets STATE_STORE; default dynamodb)
  --bundle                      run the bundles npm run build writes (dist/<function>/index.mjs)
                                instead of the sources; not with --store memory
  --idle-timeout-ms N           IDLE_TIMEOUT_MS: also runs sweep-idle-windows (with aggregate-temperatures)
  --sweep-every S               seconds between runs of a scheduled companion (default: its schedule's)
  --status-every S              seconds between status lines on stderr (default 5, 0 = off)
  --log-file PATH               structured JSON logs to a file instead of stderr
  -h, --help                    this help

Environment: KAFKA_BROKERS (default localhost:19092), DYNAMODB_ENDPOINT (default http://localhost:8000),
and the function's own settings (see functions/<name>/README.md).
Ctrl-C: stop fetching, let in-flight batches finish and commit, exit. A second Ctrl-C exits at once.
`;

runCli("harness", async () => {
  const { values } = parseArgs({
    options: {
      function: { type: "string" },
      topic: { type: "string" },
      "batch-size": { type: "string" },
      "batching-window": { type: "string" },
      "starting-position": { type: "string" },
      "starting-timestamp": { type: "string" },
      group: { type: "string" },
      flavour: { type: "string" },
      timeout: { type: "string" },
      "max-retries": { type: "string" },
      "max-record-age": { type: "string" },
      bisect: { type: "boolean" },
      "report-batch-item-failures": { type: "boolean" },
      "on-failure-topic": { type: "string" },
      "max-concurrency": { type: "string" },
      "one-partition-per-event": { type: "boolean" },
      store: { type: "string" },
      bundle: { type: "boolean" },
      "idle-timeout-ms": { type: "string" },
      "sweep-every": { type: "string" },
      "status-every": { type: "string" },
      "log-file": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const entry = kafkaFunctionNamed(values.function ?? "aggregate-temperatures");
  const name = entry.name;
  const endpoints = readStackEndpoints();
  if (values.store !== undefined) process.env.STATE_STORE = values.store;
  // Functions log one line per batch at info; in a terminal that drowns the status lines.
  process.env.LOG_LEVEL ??= "warn";
  if (values["idle-timeout-ms"] !== undefined)
    process.env.IDLE_TIMEOUT_MS = values["idle-timeout-ms"];
  process.env.DYNAMODB_ENDPOINT ??= endpoints.dynamodbEndpoint;
  // Scheduled functions get no bootstrap servers in their event: tell them where Kafka is.
  process.env.KAFKA_BROKERS ??= endpoints.kafkaBrokers.join(",");
  useLocalAwsDefaults(process.env);

  const logStream =
    values["log-file"] === undefined
      ? undefined
      : createWriteStream(values["log-file"], { flags: "a" });
  const logger = createLogger(
    logStream === undefined ? {} : { write: (line) => logStream.write(`${line}\n`) },
  );

  const declared = entry.trigger;
  const controlsWanted =
    values["max-retries"] !== undefined ||
    values["max-record-age"] !== undefined ||
    values.bisect ||
    values["report-batch-item-failures"] ||
    values["on-failure-topic"] !== undefined;
  const input: TriggerInput = {
    ...declared,
    ...(values.topic === undefined ? {} : { topic: values.topic }),
    ...(values["batch-size"] === undefined ? {} : { batchSize: Number(values["batch-size"]) }),
    ...(values["batching-window"] === undefined
      ? {}
      : { maximumBatchingWindowInSeconds: Number(values["batching-window"]) }),
    ...(values["starting-position"] === undefined
      ? {}
      : { startingPosition: values["starting-position"] as never }),
    ...(values["starting-timestamp"] === undefined
      ? {}
      : { startingPositionTimestamp: Number(values["starting-timestamp"]) }),
    ...(values.group === undefined ? {} : { consumerGroupId: values.group }),
    ...(values.flavour === undefined ? {} : { eventFlavour: values.flavour as never }),
    ...(values.timeout === undefined ? {} : { timeoutSeconds: Number(values.timeout) }),
    ...(controlsWanted
      ? {
          errorControls: {
            ...declared.errorControls,
            ...(values["max-retries"] === undefined
              ? {}
              : { maximumRetryAttempts: Number(values["max-retries"]) }),
            ...(values["max-record-age"] === undefined
              ? {}
              : { maximumRecordAgeInSeconds: Number(values["max-record-age"]) }),
            ...(values.bisect ? { bisectBatchOnFunctionError: true } : {}),
            ...(values["report-batch-item-failures"]
              ? { functionResponseTypes: ["ReportBatchItemFailures" as const] }
              : {}),
            ...(values["on-failure-topic"] === undefined
              ? {}
              : { onFailureTopic: values["on-failure-topic"] }),
          },
        }
      : {}),
  };
  const trigger = resolveTrigger(name, input);
  const moduleOf = (fn: string, source: string) =>
    values.bundle ? bundledModule(fn, process.env.STATE_STORE) : source;
  // Scheduled companions (sweep-idle-windows) run when their settings would deploy them.
  const companions = scheduledFunctions().filter(
    (s) => s.companionOf === name && deployedWith(s, process.env),
  );
  if ([entry, ...companions].some((f) => f.stateTable)) {
    await prepareStateStore(process.env, logger);
  }
  const kafka = new Kafka({
    clientId: "harness",
    brokers: endpoints.kafkaBrokers,
    logLevel: logLevel.ERROR,
  });
  await createOutputTopics(kafka, name, outputTopicNames(entry, process.env));

  const functions: HarnessFunction[] = [
    {
      name,
      trigger,
      module: moduleOf(name, pathToFileURL(entry.handlerFile).href),
      memorySizeMb: trigger.memorySizeMb,
    },
  ];
  const scheduled: ScheduledFunction[] = companions.map((companion) => ({
    name: companion.name,
    module: moduleOf(companion.name, pathToFileURL(companion.handlerFile).href),
    timeoutSeconds: companion.schedule.timeoutSeconds,
    memorySizeMb: companion.schedule.memorySizeMb,
    periodMs:
      numberFlag("sweep-every", values["sweep-every"], companion.schedule.periodSeconds, 1, 3600) *
      1000,
  }));
  const harness = await startHarness({
    functions,
    scheduled,
    kafka,
    bootstrapServers: endpoints.kafkaBrokers,
    logger,
    onePartitionPerEvent: values["one-partition-per-event"] === true,
    ...(values["max-concurrency"] === undefined
      ? {}
      : {
          maxConcurrency: numberFlag("max-concurrency", values["max-concurrency"], 10, 1, 1000),
        }),
  });
  process.stderr.write(
    `harness: running ${name} on ${trigger.topic} (group ${trigger.consumerGroupId}); Ctrl-C stops\n`,
  );

  const statusEvery = numberFlag("status-every", values["status-every"], 5, 0, 3600);
  const previous = new Map<string, number>();
  let last = Date.now();
  const status =
    statusEvery > 0
      ? setInterval(async () => {
          const now = Date.now();
          for (const line of statusLines(await harness.stats(), previous, now - last))
            process.stderr.write(`harness: ${line}\n`);
          last = now;
        }, statusEvery * 1000)
      : undefined;

  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      process.stderr.write(
        `harness: ${signal}: finishing in-flight batches, committing, disconnecting (again to exit now)\n`,
      );
      process.once("SIGINT", () => process.exit(130));
      process.once("SIGTERM", () => process.exit(143));
      resolve();
    };
    process.once("SIGINT", () => onSignal("SIGINT"));
    process.once("SIGTERM", () => onSignal("SIGTERM"));
  });
  if (status) clearInterval(status);
  await harness.stop();
  logStream?.end();
  process.stderr.write("harness: stopped\n");
  return 0;
});

/**
 * The bundle `npm run build` writes for a function, as sandboxes import it. The in-memory store is
 * shared through the source modules (a bundle has its own copy of them), so it needs DynamoDB.
 */
const bundledModule = (functionName: string, stateStore: string | undefined): string => {
  if (stateStore === "memory")
    throw new ConfigError(
      "--bundle needs --store dynamodb: the in-memory store is shared through the source modules",
    );
  const path = fileURLToPath(new URL(`../../dist/${functionName}/index.mjs`, import.meta.url));
  if (!existsSync(path))
    throw new ConfigError(`--bundle: ${path} is missing; run npm run build first`);
  return pathToFileURL(path).href;
};

/** Creates the function's declared output topics that are missing, as a deploy's would exist. */
const createOutputTopics = async (kafka: Kafka, name: string, topics: readonly string[]) => {
  const admin = kafka.admin();
  await admin.connect();
  const created = await ensureTopics(
    admin,
    topics.map((topic) => ({ topic, numPartitions: 1 })),
  ).finally(() => admin.disconnect());
  if (created.length > 0) {
    process.stderr.write(`harness: created ${name}'s output topic(s) ${created.join(", ")}\n`);
  }
};
