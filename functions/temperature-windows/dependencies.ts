import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type TemperatureState,
  type TemperatureSummary,
  temperatureAggregation,
} from "../../core/temperature-aggregation.ts";
import type { WindowRules } from "../../core/window-engine.ts";
import { sharedInstance } from "../../lib/shared-instance.ts";
import { DynamoWindowStateStore } from "../../state/dynamodb-window-state-store.ts";
import { StateConflictError } from "../../state/errors.ts";
import {
  MEMORY_WINDOW_STATE_STORE,
  MemoryWindowStateStore,
} from "../../state/memory-window-state-store.ts";
import type { OutputTopics, WindowStateStore } from "../partition-step.ts";
import { StateStoreKind, type TemperatureWindowsConfig } from "./config.ts";

export type TemperatureRules = WindowRules<TemperatureState, TemperatureSummary>;

/** The window rules the configuration describes, with the temperature aggregation. */
export const temperatureRules = (config: TemperatureWindowsConfig): TemperatureRules => ({
  spec: { sizeMs: config.windowSizeMs, graceMs: config.windowGraceMs },
  closing: config.closingStrategy,
  aggregation: temperatureAggregation,
});

/** The configured state store. The DynamoDB client is built here, once per cold start. */
export const stateStoreFor = (
  config: TemperatureWindowsConfig,
): WindowStateStore<TemperatureState> => {
  if (config.stateStore === StateStoreKind.memory) {
    // One per table name and process; in the harness it lives in its shared-instances thread,
    // where every sandbox (aggregate-temperatures and sweep-idle-windows side by side) reaches
    // it, so they share state as they would through DynamoDB.
    return sharedInstance<WindowStateStore<TemperatureState>>(
      {
        key: `memory-window-state:${config.stateTable}`,
        kind: MEMORY_WINDOW_STATE_STORE,
        args: [],
      },
      () => new MemoryWindowStateStore(),
      // A conflict is retried in the invocation, from a fresh read: it must be recognised as one.
      [StateConflictError],
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

/** Where closed windows, late readings and dead letters go, from the configuration. */
export const outputTopicsFrom = (config: TemperatureWindowsConfig): OutputTopics => ({
  windows: config.outputTopic,
  late: config.lateTopic,
  deadLetters: config.deadLetterTopic,
});
