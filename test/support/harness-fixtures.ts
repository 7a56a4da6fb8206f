import { randomUUID } from "node:crypto";
import {
  type Admin,
  type IHeaders,
  Kafka,
  KafkaJSError,
  type KafkaMessage,
  logLevel,
  type Message,
} from "kafkajs";
import { afterAll, afterEach, beforeAll } from "vitest";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import type { KafkaHandler, KafkaTriggerEvent } from "../../functions/kafka-trigger-event.ts";
import { resolveTrigger, type TriggerInput } from "../../functions/trigger-declaration.ts";
import { createTopicsWithLeaders } from "../../harness/commands/topics.ts";
import { commitAsSoleMember, type PartitionOffset } from "../../harness/emulator/group-offsets.ts";
import {
  type FunctionCode,
  type Harness,
  type HarnessOptions,
  startHarness,
} from "../../harness/emulator/harness.ts";
import { createLogger, silentLogger } from "../../lib/logger.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";

export const brokers = readStackEndpoints().kafkaBrokers;
export const testKafka = () =>
  new Kafka({ clientId: "harness-test", brokers, logLevel: logLevel.NOTHING });

/** A name no other test uses: for topics, consumer groups and tables. */
export const uniqueName = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;

/** Which requests a {@link refusingKafka} client refuses, and how many it has refused. */
export interface Refusals {
  /** Offset commits of its consumers to refuse, the next ones first. */
  commits: number;
  /** Sends of its producers to refuse, the next ones first. */
  sends: number;
  refused: { commits: number; sends: number };
}

/**
 * The client `kafka`, whose consumers' offset commits and producers' sends fail before they are
 * sent, as many times as `refusals` says: a broker refusing them (a rebalance in progress, a
 * coordinator moving, a full disk), injected at the client so that everything else is real.
 */
export const refusingKafka = (kafka: Kafka, refusals: Refusals): Kafka =>
  new Proxy(kafka, {
    get(target, property, receiver) {
      if (property === "consumer")
        return (config: Parameters<Kafka["consumer"]>[0]) =>
          refusing(target.consumer(config), "commitOffsets", refusals, "commits");
      if (property === "producer")
        return (config: Parameters<Kafka["producer"]>[0]) =>
          refusing(target.producer(config), "send", refusals, "sends");
      return Reflect.get(target, property, receiver);
    },
  });

/** `client`, its `method` failing (before sending anything) while `refusals[kind]` lasts. */
const refusing = <C extends object>(
  client: C,
  method: keyof C & string,
  refusals: Refusals,
  kind: "commits" | "sends",
): C => {
  const original = (client[method] as (...args: unknown[]) => Promise<unknown>).bind(client);
  Object.assign(client, {
    [method]: async (...args: unknown[]) => {
      if (refusals[kind] <= 0) return original(...args);
      refusals[kind]--;
      refusals.refused[kind]++;
      throw new KafkaJSError(`${method} refused (injected)`, { retriable: true });
    },
  });
  return client;
};

/** Creates a fresh topic, waits for its partitions' leaders and returns its name. */
export const createTopic = async (admin: Admin, partitions = 1, prefix = "harness") => {
  const topic = uniqueName(prefix);
  await createTopicsWithLeaders(admin, [{ topic, numPartitions: partitions }]);
  return topic;
};

/**
 * Produces messages to `topic` (acks from all replicas), each once: idempotent, so a request
 * kafkajs retries on a busy broker does not write the messages twice.
 */
export const produce = async (kafka: Kafka, topic: string, messages: Message[]) => {
  const producer = kafka.producer(PRODUCER_CONFIG);
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
};

/** `n` keyed readings-like messages; `partition` pins them, otherwise keys spread them. */
export const messages = (
  n: number,
  options: { partition?: number; from?: number; size?: number } = {},
): Message[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `k${(options.from ?? 0) + i}`,
    value: JSON.stringify({
      i: (options.from ?? 0) + i,
      value: ((options.from ?? 0) + i) % 100,
      pad: "x".repeat(options.size ?? 0),
    }),
    ...(options.partition === undefined ? {} : { partition: options.partition }),
  }));

/** What a recording handler saw. */
export interface Recorded {
  events: KafkaTriggerEvent[];
  /** The `"<topic>-<partition>"` keys of each event, in delivery order. */
  keys: () => string[][];
  /** `i` of each delivered record, per partition, in delivery order. */
  byPartition: Map<number, number[]>;
  delivered: () => number;
}

/** A handler that records its events, then does what `behaviour` says (succeed by default). */
export const recordingHandler = (
  behaviour?: (event: KafkaTriggerEvent, call: number) => Promise<unknown> | unknown,
) => {
  const recorded: Recorded = {
    events: [],
    keys: () => recorded.events.map((e) => Object.keys(e.records)),
    byPartition: new Map(),
    delivered: () => [...recorded.byPartition.values()].reduce((n, list) => n + list.length, 0),
  };
  let calls = 0;
  const handler: KafkaHandler = async (event) => {
    const call = calls++;
    const result = behaviour === undefined ? undefined : await behaviour(event, call);
    recorded.events.push(event);
    for (const records of Object.values(event.records)) {
      for (const r of records) {
        const list = recorded.byPartition.get(r.partition) ?? [];
        list.push(JSON.parse(Buffer.from(r.value ?? "", "base64").toString()).i);
        recorded.byPartition.set(r.partition, list);
      }
    }
    return result as never;
  };
  return { handler, recorded };
};

/** Starts a harness with one function on `topic`, fast retries, and a fresh group unless given. */
export const harnessFor = async (
  kafka: Kafka,
  handler: KafkaHandler,
  trigger: Omit<TriggerInput, "topic"> & { topic: string },
  options: Pick<HarnessOptions, "onePartitionPerEvent" | "maxConcurrency"> = {},
): Promise<Harness> => harnessWith(kafka, { handler }, trigger, options);

/** The URL of a handler module in `test/fixtures/handlers/`, for sandboxes to import. */
export const fixtureHandler = (name: string) =>
  new URL(`../fixtures/handlers/${name}.ts`, import.meta.url).href;

/** Like `harnessFor`, with any function code (a module runs in sandboxes) and harness options. */
export const harnessWith = async (
  kafka: Kafka,
  code: FunctionCode,
  trigger: Omit<TriggerInput, "topic"> & { topic: string },
  options: Partial<Omit<HarnessOptions, "functions">> & { memorySizeMb?: number } = {},
): Promise<Harness> => {
  const { memorySizeMb, ...harnessOptions } = options;
  return startHarness({
    functions: [
      {
        ...code,
        name: "test-function",
        ...(memorySizeMb === undefined ? {} : { memorySizeMb }),
        trigger: resolveTrigger("test-function", {
          consumerGroupId: uniqueName("group"),
          maximumBatchingWindowInSeconds: 0,
          ...trigger,
        }),
      },
    ],
    kafka,
    bootstrapServers: brokers,
    logger: silentLogger,
    retryBackoff: { initialMs: 50, maxMs: 200 },
    ...harnessOptions,
  });
};

/** A logger keeping every line it is given, parsed: to see what sandboxes log. */
export const capturingLogger = () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "info", write: (line) => lines.push(JSON.parse(line)) });
  return { logger, lines };
};

/**
 * Polls until `predicate` holds, or fails after `timeoutMs` with `what`. A predicate that throws
 * (a busy broker answering "not the coordinator", a request timing out) has not held yet: it is
 * asked again, and its last error is the timeout's cause.
 */
export const eventually = async (
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
) => {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`, { cause: lastError });
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Waits until `groupId` is a stable group with a member: its partitions are assigned. */
export const groupHasJoined = (admin: Admin, groupId: string, timeoutMs = 30_000) =>
  eventually(
    `group ${groupId} joined`,
    async () => {
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups[0];
      return group?.state === "Stable" && group.members.length > 0;
    },
    timeoutMs,
  );

/** The group's committed offsets (next offset to read) per partition; -1 when none. */
export const committedOffsets = async (
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> => {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
};

/** Commits a group's offsets as its sole member, so that a consumer joining next reads them. */
export const commitGroupOffsets = (
  kafka: Kafka,
  admin: Admin,
  groupId: string,
  topic: string,
  offsets: PartitionOffset[],
) =>
  commitAsSoleMember({
    kafka,
    admin,
    groupId,
    topic,
    offsets: async () => offsets,
    timeoutMs: 20_000,
  });

/** Reads every message of `topic` from the beginning until `count` arrived. */
export const readTopic = async (kafka: Kafka, topic: string, count: number, timeoutMs = 20_000) => {
  const consumer = kafka.consumer({ groupId: uniqueName("reader") });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received: { partition: number; message: KafkaMessage }[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${received.length}/${count} messages on ${topic}`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          received.push({ partition, message });
          if (received.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
      if (count === 0) resolve();
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
};

export const headerText = (headers: IHeaders | undefined, name: string) =>
  headers?.[name]?.toString();

/**
 * For a test file that talks to the broker: a client and a connected admin for the whole file,
 * and `track(harness)` to have a harness stopped after its test.
 */
export const useBroker = () => {
  const kafka = testKafka();
  const admin = kafka.admin();
  const running: Harness[] = [];
  beforeAll(() => admin.connect());
  afterEach(async () => {
    await Promise.all(running.splice(0).map((h) => h.stop()));
  });
  afterAll(() => admin.disconnect());
  return {
    kafka,
    admin,
    track: (harness: Harness) => {
      running.push(harness);
      return harness;
    },
  };
};
