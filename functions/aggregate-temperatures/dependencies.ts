import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { Kafka, logLevel } from "kafkajs";
import {
  type TemperatureState,
  type TemperatureSummary,
  temperatureAggregation,
} from "../../core/temperature-aggregation.ts";
import type { WindowRules } from "../../core/window-engine.ts";
import { ConfigError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import { sharedInstance } from "../../lib/shared-instance.ts";
import { DynamoWindowStateStore } from "../../state/dynamodb-window-state-store.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import {
  KafkaAuth,
  type KafkaAuthConfig,
  kafkaClientAuth,
  readKafkaAuthConfig,
} from "../kafka-auth.ts";
import type { WindowOutputs, WindowStateStore } from "../partition-step.ts";
import { kafkaRecordSink, type RecordSink } from "../record-sink.ts";
import type { AggregateDependencies } from "./aggregate-handler.ts";
import { type AggregateConfig, StateStoreKind } from "./config.ts";

export type TemperatureRules = WindowRules<TemperatureState, TemperatureSummary>;

/** The window rules the configuration describes, with the temperature aggregation. */
export const temperatureRules = (config: AggregateConfig): TemperatureRules => ({
  spec: { sizeMs: config.windowSizeMs, graceMs: config.windowGraceMs },
  closing: config.closingStrategy,
  aggregation: temperatureAggregation,
});

/**
 * The in-memory store the configuration describes. `stateStoreFor` builds one per table name and
 * process; in the harness it lives in the main thread, where every sandbox (aggregate-temperatures
 * and sweep-idle-windows side by side) reaches it, so they share state as they would through
 * DynamoDB.
 */
export const createMemoryStore = (
  _config: AggregateConfig,
): MemoryWindowStateStore<TemperatureState, WindowOutputs<TemperatureState>> =>
  new MemoryWindowStateStore();

/** The configured state store. The DynamoDB client is built here, once per cold start. */
export const stateStoreFor = (config: AggregateConfig): WindowStateStore<TemperatureState> => {
  if (config.stateStore === StateStoreKind.memory) {
    return sharedInstance<WindowStateStore<TemperatureState>>(
      {
        key: `memory-window-state:${config.stateTable}`,
        module: import.meta.url,
        export: "createMemoryStore",
        args: [config],
      },
      () => createMemoryStore(config),
    );
  }
  return new DynamoWindowStateStore({
    client: new DynamoDBClient(
      config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint },
    ),
    tableName: config.stateTable,
    retentionMs: config.stateRetentionMs,
  });
};

/** The ports MSK serves IAM access control on: inside the VPC, and with public access. */
const MSK_IAM_PORTS = ["9098", "9198"];

/**
 * A connected producer for the output topics, built on first use and kept for the container's
 * life, as Lambda reuses it. The brokers are `KAFKA_BROKERS`; without it (the local harness,
 * self-managed Kafka) the first event's `bootstrapServers`. Never with MSK IAM: the event names the
 * brokers the trigger reads from, on whatever port its authentication uses (9092 in AWS's sample
 * event), while IAM listens on 9098. Checked here, at cold start, not at the first produce.
 * https://docs.aws.amazon.com/msk/latest/developerguide/port-info.html
 */
export const lazyKafkaSink = (
  brokersFromConfig: string[] | undefined,
  clientId: string,
  logger: Logger,
  auth: KafkaAuthConfig = readKafkaAuthConfig(),
) => {
  if (auth.kind === KafkaAuth.mskIam) {
    if (brokersFromConfig === undefined) {
      throw new ConfigError(
        "KAFKA_AUTH=msk-iam needs KAFKA_BROKERS: the cluster's IAM bootstrap brokers (port 9098, aws kafka get-bootstrap-brokers); the event's bootstrapServers may name another listener",
      );
    }
    const wrongPort = brokersFromConfig.filter(
      (b) => !MSK_IAM_PORTS.includes(b.slice(b.lastIndexOf(":") + 1)),
    );
    if (wrongPort.length > 0) {
      throw new ConfigError(
        `KAFKA_AUTH=msk-iam: KAFKA_BROKERS must use MSK's IAM port 9098 (9198 with public access), got ${wrongPort.join(",")}`,
      );
    }
  }
  let sink: Promise<RecordSink> | undefined;
  return (bootstrapServers: string | undefined): Promise<RecordSink> => {
    sink ??= (async () => {
      const brokers = brokersFromConfig ?? bootstrapServers?.split(",");
      if (brokers === undefined) {
        throw new Error("no Kafka brokers to produce to: set KAFKA_BROKERS (e.g. localhost:19092)");
      }
      const kafka = new Kafka({
        clientId,
        brokers,
        logLevel: logLevel.ERROR,
        ...(await kafkaClientAuth(auth)),
      });
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      logger.info("output producer connected", { brokers, auth: auth.kind });
      return kafkaRecordSink(producer);
    })().catch((error: unknown) => {
      sink = undefined; // let the next invocation try again
      throw error;
    });
    return sink;
  };
};

/** How records are decoded, from the configuration. */
export const decodeOptionsFrom = (
  config: AggregateConfig,
): AggregateDependencies<TemperatureState, TemperatureSummary>["decode"] => ({
  timestampSource: config.timestampSource,
  maxEventTimeSkewMs: config.maxEventTimeSkewMs,
});

/** Where closed windows, late readings and dead letters go, from the configuration. */
export const outputTopicsFrom = (
  config: AggregateConfig,
): AggregateDependencies<TemperatureState, TemperatureSummary>["topics"] => ({
  windows: config.outputTopic,
  late: config.lateTopic,
  deadLetters: config.deadLetterTopic,
});

/** Everything but the sink, from the configuration. */
export const dependenciesFrom = (
  config: AggregateConfig,
  logger: Logger,
): Omit<AggregateDependencies<TemperatureState, TemperatureSummary>, "sink"> => {
  const rules = temperatureRules(config);
  return {
    rules,
    decode: decodeOptionsFrom(config),
    topics: outputTopicsFrom(config),
    store: stateStoreFor(config),
    logger,
    now: Date.now,
    // One per cold start: this sandbox's partitions, validated by version at every commit.
    cache: new Map(),
    idleTimeoutMs: config.idleTimeoutMs,
    retentionMs: config.stateRetentionMs,
  };
};
