import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { Kafka, logLevel } from "kafkajs";
import { TimestampSource } from "../../core/decode-reading.ts";
import {
  type TemperatureState,
  type TemperatureSummary,
  temperatureAggregation,
} from "../../core/temperature-aggregation.ts";
import type { WindowRules } from "../../core/window-engine.ts";
import { windowCloseTime } from "../../core/window-spec.ts";
import { ClosingStrategy } from "../../core/window-state.ts";
import type { Logger } from "../../lib/logger.ts";
import { DynamoWindowStateStore } from "../../state/dynamodb-window-state-store.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import type { WindowStateStore } from "../../state/window-state-store.ts";
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

/** The configured state store. The DynamoDB client is built here, once per cold start. */
export const stateStoreFor = (
  config: AggregateConfig,
  rules: TemperatureRules,
): WindowStateStore<TemperatureState> => {
  const closeTimeOf = (start: number) => windowCloseTime(start, rules.spec);
  if (config.stateStore === StateStoreKind.memory) return new MemoryWindowStateStore(closeTimeOf);
  return new DynamoWindowStateStore({
    client: new DynamoDBClient(
      config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint },
    ),
    tableName: config.stateTable,
    retentionMs: config.stateRetentionMs,
    indexDueWindows: config.closingStrategy === ClosingStrategy.partition,
    closeTimeOf,
  });
};

/**
 * A connected producer for the output topics, built on first use (the brokers may come from the
 * first event's `bootstrapServers`) and kept for the container's life, as Lambda reuses it.
 */
export const lazyKafkaSink = (brokersFromConfig: string[] | undefined, logger: Logger) => {
  let sink: Promise<RecordSink> | undefined;
  return (bootstrapServers: string): Promise<RecordSink> => {
    sink ??= (async () => {
      const brokers = brokersFromConfig ?? bootstrapServers.split(",");
      const kafka = new Kafka({
        clientId: "aggregate-temperatures",
        brokers,
        logLevel: logLevel.ERROR,
      });
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      logger.info("output producer connected", { brokers });
      return kafkaRecordSink(producer);
    })().catch((error: unknown) => {
      sink = undefined; // let the next invocation try again
      throw error;
    });
    return sink;
  };
};

/** Everything but the sink, from the configuration. */
export const dependenciesFrom = (
  config: AggregateConfig,
  logger: Logger,
): Omit<AggregateDependencies<TemperatureState, TemperatureSummary>, "sink"> => {
  const rules = temperatureRules(config);
  return {
    rules,
    decode: {
      timestampSource: config.timestampSource ?? TimestampSource.payload,
      maxEventTimeSkewMs: config.maxEventTimeSkewMs,
    },
    topics: {
      windows: config.outputTopic,
      late: config.lateTopic,
      deadLetters: config.deadLetterTopic,
    },
    store: stateStoreFor(config, rules),
    logger,
    now: Date.now,
  };
};
