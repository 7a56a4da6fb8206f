import type { Context, ScheduledEvent } from "aws-lambda";
import type { TemperatureState, TemperatureSummary } from "../../core/temperature-aggregation.ts";
import { ConfigError } from "../../lib/errors.ts";
import { addMetrics, writeEmbeddedMetrics } from "../../lib/function-metrics.ts";
import { createLogger } from "../../lib/logger.ts";
import { invocationDeadline } from "../invocation-deadline.ts";
import { lazyKafkaSink } from "../kafka-sink.ts";
import { readTemperatureWindowsConfig } from "../temperature-windows/config.ts";
import {
  outputTopicsFrom,
  stateStoreFor,
  temperatureRules,
} from "../temperature-windows/dependencies.ts";
import { createSweepHandler, type SweepSummary } from "./sweep-handler.ts";

/*
 * The Lambda entry point, run on a schedule. It reads the configuration it shares with
 * aggregate-temperatures (functions/temperature-windows/: same window rules, same state table,
 * same output topic) and needs
 * IDLE_TIMEOUT_MS and KAFKA_BROKERS: a scheduled event carries no bootstrap servers.
 */
const FUNCTION_NAME = "sweep-idle-windows";
const logger = createLogger({ fields: { function: FUNCTION_NAME } });
const config = readTemperatureWindowsConfig();
if (config.idleTimeoutMs === undefined) {
  throw new ConfigError(
    "sweep-idle-windows needs IDLE_TIMEOUT_MS > 0 (e.g. 30000); unset, idle closing is off",
  );
}
const idleTimeoutMs = config.idleTimeoutMs;
const rules = temperatureRules(config);
const store = stateStoreFor(config);
const sinkFor = lazyKafkaSink(config.outputBrokers, FUNCTION_NAME, logger);

/** `sweep-idle-windows`: closes and emits the windows of sensors that went quiet. */
export const handler = async (
  _event?: ScheduledEvent,
  context?: Context,
): Promise<SweepSummary> => {
  const sweep = createSweepHandler<TemperatureState, TemperatureSummary>({
    rules,
    store,
    sink: await sinkFor(undefined),
    topics: outputTopicsFrom(config),
    idleTimeoutMs,
    logger,
    now: Date.now,
    deadline: invocationDeadline(context),
  });
  const summary = await sweep();
  addMetrics(FUNCTION_NAME, { ...summary });
  // Its own CloudWatch metrics (sensorsIdle, windowsClosed, windowsEmitted), as the aggregate
  // function writes its own.
  writeEmbeddedMetrics({ ...summary });
  return summary;
};
