import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type TemperatureState,
  type TemperatureSummary,
  temperatureAggregation,
} from "../../core/temperature-aggregation.ts";
import type { WindowRules } from "../../core/window-engine.ts";
import type { Logger } from "../../lib/logger.ts";
import { DynamoWindowStateStore } from "../../state/dynamodb-window-state-store.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import type { WindowOutputs, WindowStateStore } from "../partition-step.ts";
import type { AggregateDependencies } from "./aggregate-handler.ts";
import { type AggregateConfig, StateStoreKind } from "./config.ts";

export type TemperatureRules = WindowRules<TemperatureState, TemperatureSummary>;

/** The window rules the configuration describes, with the temperature aggregation. */
export const temperatureRules = (config: AggregateConfig): TemperatureRules => ({
  spec: { sizeMs: config.windowSizeMs, graceMs: config.windowGraceMs },
  closing: config.closingStrategy,
  aggregation: temperatureAggregation,
});

// One in-memory store per table name and process, so that functions the harness runs side by side
// (aggregate-temperatures and sweep-idle-windows) share state as they would through DynamoDB.
const memoryStores = new Map<
  string,
  MemoryWindowStateStore<TemperatureState, WindowOutputs<TemperatureState>>
>();

/** The configured state store. The DynamoDB client is built here, once per cold start. */
export const stateStoreFor = (config: AggregateConfig): WindowStateStore<TemperatureState> => {
  if (config.stateStore === StateStoreKind.memory) {
    let store = memoryStores.get(config.stateTable);
    if (store === undefined) {
      store = new MemoryWindowStateStore();
      memoryStores.set(config.stateTable, store);
    }
    return store;
  }
  return new DynamoWindowStateStore({
    client: new DynamoDBClient(
      config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint },
    ),
    tableName: config.stateTable,
    retentionMs: config.stateRetentionMs,
  });
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
