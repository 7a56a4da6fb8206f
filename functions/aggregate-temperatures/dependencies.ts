import type { TemperatureState, TemperatureSummary } from "../../core/temperature-aggregation.ts";
import type { Logger } from "../../lib/logger.ts";
import {
  outputTopicsFrom,
  stateStoreFor,
  temperatureRules,
} from "../temperature-windows/dependencies.ts";
import type { AggregateDependencies } from "./aggregate-handler.ts";
import type { AggregateConfig } from "./config.ts";

/** How records are decoded, from the configuration. */
export const decodeOptionsFrom = (
  config: AggregateConfig,
): AggregateDependencies<TemperatureState, TemperatureSummary>["decode"] => ({
  timestampSource: config.timestampSource,
  maxEventTimeSkewMs: config.maxEventTimeSkewMs,
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
