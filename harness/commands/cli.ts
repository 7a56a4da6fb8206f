import { createWriteStream, existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Kafka } from "kafkajs";
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
import type { Harness } from "../emulator/harness.ts";
import {
  exitOnNext,
  type Flags,
  flagsOrUsage,
  numberFlag,
  runCli,
  untilSignal,
} from "./cli-args.ts";
import {
  checkFunctionSettings,
  commandKafka,
  startLocalHarness,
  useFunctionSettings,
} from "./local-setup.ts";
import { statusLines } from "./status-line.ts";
import { createMissingTopics } from "./topics.ts";

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
                                instead of the sources
  --idle-timeout-ms N           IDLE_TIMEOUT_MS: also runs sweep-idle-windows (with aggregate-temperatures)
  --sweep-every S               seconds between runs of a scheduled companion (default: its schedule's)
  --status-every S              seconds between status lines on stderr (default 5, 0 = off)
  --log-file PATH               structured JSON logs to a file instead of stderr
  -h, --help                    this help

Environment: KAFKA_BROKERS (default localhost:19092), DYNAMODB_ENDPOINT (default http://localhost:8000),
and the function's own settings (see functions/<name>/README.md).
Ctrl-C: stop fetching, let in-flight batches finish and commit, exit. A second Ctrl-C exits at once.
`;

const OPTIONS = {
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
} as const;

/**
 * Structured logs to `logFile` (appended to) when given, else to stderr. A file that cannot be
 * opened is refused before anything starts.
 */
const logDestination = async (logFile: string | undefined) => {
  const logStream = logFile === undefined ? undefined : createWriteStream(logFile, { flags: "a" });
  if (logStream !== undefined) {
    await new Promise<void>((resolve, reject) => {
      logStream.once("open", () => resolve());
      logStream.once("error", (error) =>
        reject(new ConfigError(`--log-file ${logFile}: ${error.message}`, { cause: error })),
      );
    });
  }
  const logger = createLogger(
    logStream === undefined ? {} : { write: (line) => logStream.write(`${line}\n`) },
  );
  return { logger, logStream };
};

/** The declared trigger with what the flags override. */
const triggerFromFlags = (declared: TriggerInput, flags: Flags<typeof OPTIONS>): TriggerInput => ({
  ...declared,
  ...(flags.topic === undefined ? {} : { topic: flags.topic }),
  ...(flags["batch-size"] === undefined ? {} : { batchSize: Number(flags["batch-size"]) }),
  ...(flags["batching-window"] === undefined
    ? {}
    : { maximumBatchingWindowInSeconds: Number(flags["batching-window"]) }),
  ...(flags["starting-position"] === undefined
    ? {}
    : { startingPosition: flags["starting-position"] as never }),
  ...(flags["starting-timestamp"] === undefined
    ? {}
    : { startingPositionTimestamp: Number(flags["starting-timestamp"]) }),
  ...(flags.group === undefined ? {} : { consumerGroupId: flags.group }),
  ...(flags.flavour === undefined ? {} : { eventFlavour: flags.flavour as never }),
  ...(flags.timeout === undefined ? {} : { timeoutSeconds: Number(flags.timeout) }),
  ...errorControlsFromFlags(declared, flags),
});

/** The declared error controls with what the flags override; none of them, the declared ones. */
const errorControlsFromFlags = (
  declared: TriggerInput,
  flags: Flags<typeof OPTIONS>,
): Partial<TriggerInput> => {
  const controlsWanted =
    flags["max-retries"] !== undefined ||
    flags["max-record-age"] !== undefined ||
    flags.bisect ||
    flags["report-batch-item-failures"] ||
    flags["on-failure-topic"] !== undefined;
  if (!controlsWanted) return {};
  return {
    errorControls: {
      ...declared.errorControls,
      ...(flags["max-retries"] === undefined
        ? {}
        : { maximumRetryAttempts: Number(flags["max-retries"]) }),
      ...(flags["max-record-age"] === undefined
        ? {}
        : { maximumRecordAgeInSeconds: Number(flags["max-record-age"]) }),
      ...(flags.bisect ? { bisectBatchOnFunctionError: true } : {}),
      ...(flags["report-batch-item-failures"]
        ? { functionResponseTypes: ["ReportBatchItemFailures" as const] }
        : {}),
      ...(flags["on-failure-topic"] === undefined
        ? {}
        : { onFailureTopic: flags["on-failure-topic"] }),
    },
  };
};

/**
 * Scheduled companions (sweep-idle-windows) run when their settings would deploy them, every
 * `--sweep-every` seconds or their schedule's period.
 */
const companionsOf = (name: string, flags: Flags<typeof OPTIONS>) =>
  scheduledFunctions()
    .filter((s) => s.companionOf === name && deployedWith(s, process.env))
    .map((s) => ({
      entry: s,
      periodMs:
        numberFlag("sweep-every", flags["sweep-every"], s.schedule.periodSeconds, 1, 3600) * 1000,
    }));

const concurrencyFromFlags = (flags: Flags<typeof OPTIONS>) => ({
  onePartitionPerEvent: flags["one-partition-per-event"] === true,
  ...(flags["max-concurrency"] === undefined
    ? {}
    : { maxConcurrency: numberFlag("max-concurrency", flags["max-concurrency"], 10, 1, 1000) }),
});

/** Every `seconds` (0 = never), a status line per function on stderr. */
const writeStatusLines = (harness: Harness, seconds: number) => {
  if (seconds <= 0) return undefined;
  const previous = new Map<string, number>();
  let last = Date.now();
  return setInterval(async () => {
    const now = Date.now();
    for (const line of statusLines(await harness.stats(), harness.metrics(), previous, now - last))
      process.stderr.write(`harness: ${line}\n`);
    last = now;
  }, seconds * 1000);
};

/** Resolves at Ctrl-C (or SIGTERM), after which a second one exits at once. */
const untilStopAsked = () =>
  untilSignal((signal) => {
    process.stderr.write(
      `harness: ${signal}: finishing in-flight batches, committing, disconnecting (again to exit now)\n`,
    );
    exitOnNext("SIGINT", "SIGTERM");
  });

/** The bundle `npm run build` writes for a function, as sandboxes import it. */
const bundledModule = (functionName: string): string => {
  const path = fileURLToPath(new URL(`../../dist/${functionName}/index.mjs`, import.meta.url));
  if (!existsSync(path))
    throw new ConfigError(`--bundle: ${path} is missing; run npm run build first`);
  return pathToFileURL(path).href;
};

/** Creates the function's declared output topics that are missing, as a deploy's would exist. */
const createOutputTopics = async (kafka: Kafka, name: string, topics: readonly string[]) => {
  const created = await createMissingTopics(
    kafka,
    topics.map((topic) => ({ topic, numPartitions: 1 })),
  );
  if (created.length > 0) {
    process.stderr.write(`harness: created ${name}'s output topic(s) ${created.join(", ")}\n`);
  }
};

runCli("harness", async () => {
  const flags = flagsOrUsage(OPTIONS, USAGE);
  if (flags === undefined) return 0;
  // Every flag and setting is checked before anything is created or started.
  const entry = kafkaFunctionNamed(flags.function ?? "aggregate-temperatures");
  const endpoints = readStackEndpoints();
  useFunctionSettings(
    process.env,
    { stateStore: flags.store, idleTimeoutMs: flags["idle-timeout-ms"] },
    endpoints,
  );
  const trigger = resolveTrigger(entry.name, triggerFromFlags(entry.trigger, flags));
  const companions = companionsOf(entry.name, flags);
  const runs = [entry, ...companions.map((c) => c.entry)];
  checkFunctionSettings(runs, process.env);
  const concurrency = concurrencyFromFlags(flags);
  const statusEvery = numberFlag("status-every", flags["status-every"], 5, 0, 3600);
  if (flags.bundle) for (const f of runs) bundledModule(f.name);
  const { logger, logStream } = await logDestination(flags["log-file"]);
  const kafka = commandKafka("harness", endpoints.kafkaBrokers);
  await createOutputTopics(kafka, entry.name, outputTopicNames(entry, process.env));
  const harness = await startLocalHarness(
    {
      entry,
      trigger,
      companions,
      ...(flags.bundle ? { moduleOf: (f) => bundledModule(f.name) } : {}),
    },
    { kafka, endpoints, logger },
    concurrency,
  );
  process.stderr.write(
    `harness: running ${entry.name} on ${trigger.topic} (group ${trigger.consumerGroupId}); Ctrl-C stops\n`,
  );
  const status = writeStatusLines(harness, statusEvery);
  await untilStopAsked();
  if (status) clearInterval(status);
  await harness.stop();
  logStream?.end();
  process.stderr.write("harness: stopped\n");
  return 0;
});
