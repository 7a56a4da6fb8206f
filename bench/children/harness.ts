/**
 * The harness in its own process, as `npm run harness` runs it: `aggregate-temperatures` (its
 * bundle, or its sources) imported in the harness's sandboxes (worker threads), behind the local
 * Kafka trigger; with `STATE_STORE=memory` the store lives in the harness's shared-instances
 * thread and the sandboxes reach it through `lib/shared-instance.ts`, as under `npm run harness`.
 * Stops once `total` records were delivered, or when the bench closes stdin. Prints the records
 * delivered, the time from the consumer joining its group to the end of the last invocation
 * (connection set-up and group join left out, as for the bare consumer), and the process's peak RSS.
 */
import { pathToFileURL } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { kafkaFunctionNamed } from "../../functions/registry.ts";
import { resolveTrigger, type StartingPositionName } from "../../functions/trigger-declaration.ts";
import { startHarness } from "../../harness/emulator/harness.ts";
import { silentLogger } from "../../lib/logger.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import {
  childInput,
  peakRssMb,
  reportReady,
  reportResult,
  rssMb,
  stopRequested,
} from "./protocol.ts";

export interface HarnessChildInput {
  topic: string;
  groupId: string;
  batchSize: number;
  batchingWindowSeconds: number;
  startingPosition: StartingPositionName;
  /** Stop after this many records; undefined = run until stdin closes. */
  total?: number;
  /**
   * The module the sandboxes import: a bundle (`npm run build`), the function that does nothing
   * (the harness alone), or, when undefined, aggregate-temperatures' sources through tsx.
   */
  module?: string;
}

export interface HarnessChildResult {
  records: number;
  invocations: number;
  ms: number;
  peakRssMb: number;
  /** RSS sampled every 250 ms once the group was joined, MB, in order: does it stay flat? */
  rssMb: number[];
}

const input = childInput<HarnessChildInput>();
const { kafkaBrokers } = readStackEndpoints();
const fn = kafkaFunctionNamed("aggregate-temperatures");
const declared = fn.trigger;

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
      module: input.module ?? pathToFileURL(fn.handlerFile).href,
      memorySizeMb: declared.memorySizeMb,
    },
  ],
  kafka: timedKafka(),
  bootstrapServers: kafkaBrokers,
  logger: silentLogger,
  onDelivered: (_name, delivered) => {
    records += delivered;
    invocations++;
    lastEnd = performance.now();
    if (input.total !== undefined && records >= input.total) reachedTotal();
  },
});
reportReady();
const rssSamples: number[] = [];
const sampling = setInterval(() => {
  if (joinedAt !== undefined) rssSamples.push(rssMb());
}, 250);
await Promise.race([done, stopRequested()]);
clearInterval(sampling);
await harness.stop();
reportResult({
  records,
  invocations,
  ms: joinedAt === undefined ? 0 : lastEnd - joinedAt,
  peakRssMb: peakRssMb(),
  rssMb: rssSamples,
} satisfies HarnessChildResult);
