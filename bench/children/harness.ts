/**
 * The harness in its own process, running the real `aggregate-temperatures` entry point (its
 * module-level config, in-memory state store, Kafka output producer) behind the local Kafka trigger.
 * Stops once `total` records were delivered, or when the bench closes stdin. Prints the records
 * delivered, the time from the consumer joining its group to the end of the last invocation
 * (connection set-up and group join left out, as for the bare consumer), and the process's peak RSS.
 */
import { Kafka, logLevel } from "kafkajs";
import { kafkaFunctionNamed } from "../../functions/registry.ts";
import { resolveTrigger, type StartingPositionName } from "../../functions/trigger-declaration.ts";
import { startHarness } from "../../harness/harness.ts";
import { silentLogger } from "../../lib/logger.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { childInput, peakRssMb, reportReady, reportResult, stopRequested } from "./protocol.ts";

export interface HarnessChildInput {
  topic: string;
  groupId: string;
  batchSize: number;
  batchingWindowSeconds: number;
  startingPosition: StartingPositionName;
  /** Stop after this many records; undefined = run until stdin closes. */
  total?: number;
  /** Invoke a function that does nothing instead of aggregate-temperatures: the harness alone. */
  noopFunction?: boolean;
}

export interface HarnessChildResult {
  records: number;
  invocations: number;
  ms: number;
  peakRssMb: number;
}

const input = childInput<HarnessChildInput>();
const { kafkaBrokers } = readStackEndpoints();
const fn = kafkaFunctionNamed("aggregate-temperatures");
const declared = fn.trigger;
const handler = await fn.loadHandler();

/**
 * A client whose consumers report when they joined their group: the harness builds its consumer
 * inside, and the bench times from there, as it does for the bare consumer.
 * https://kafka.js.org/docs/instrumentation-events
 */
const timedKafka = (): Kafka => {
  const kafka = new Kafka({
    clientId: "bench-harness",
    brokers: kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer.bind(kafka);
  kafka.consumer = (config) => {
    const c = consumer(config);
    c.on(c.events.GROUP_JOIN, () => {
      joinedAt ??= performance.now();
    });
    return c;
  };
  return kafka;
};

let records = 0;
let invocations = 0;
let joinedAt: number | undefined;
let lastEnd = 0;
let reachedTotal: () => void = () => {};
const done = new Promise<void>((resolve) => {
  reachedTotal = resolve;
});

const harness = await startHarness({
  functions: [
    {
      name: "aggregate-temperatures",
      trigger: resolveTrigger("aggregate-temperatures", {
        ...declared,
        topic: input.topic,
        consumerGroupId: input.groupId,
        batchSize: input.batchSize,
        maximumBatchingWindowInSeconds: input.batchingWindowSeconds,
        startingPosition: input.startingPosition,
      }),
      handler: async (event, context) => {
        if (!input.noopFunction) await handler(event, context);
        for (const list of Object.values(event.records)) records += list.length;
        invocations++;
        lastEnd = performance.now();
        if (input.total !== undefined && records >= input.total) reachedTotal();
      },
    },
  ],
  kafka: timedKafka(),
  bootstrapServers: kafkaBrokers,
  logger: silentLogger,
});
reportReady();
await Promise.race([done, stopRequested()]);
await harness.stop();
reportResult({
  records,
  invocations,
  ms: joinedAt === undefined ? 0 : lastEnd - joinedAt,
  peakRssMb: peakRssMb(),
} satisfies HarnessChildResult);
