import type { Context } from "aws-lambda";
import { addMetrics, writeEmbeddedMetrics } from "../../lib/function-metrics.ts";
import { createLogger } from "../../lib/logger.ts";
import { invocationDeadline } from "../invocation-deadline.ts";
import { lazyKafkaSink } from "../kafka-sink.ts";
import type { KafkaTriggerEvent } from "../kafka-trigger-event.ts";
import { createAggregateHandler } from "./aggregate-handler.ts";
import { readAggregateConfig } from "./config.ts";
import { dependenciesFrom } from "./dependencies.ts";

/*
 * The Lambda entry point. Configuration is read and validated once per cold start; the DynamoDB
 * client and the Kafka producer live at module level so warm invocations reuse their connections.
 * A bad setting fails the cold start with a message naming the variable.
 */
const FUNCTION_NAME = "aggregate-temperatures";
const logger = createLogger({ fields: { function: FUNCTION_NAME } });
const config = readAggregateConfig();
const base = dependenciesFrom(config, logger);
const sinkFor = lazyKafkaSink(config.outputBrokers, FUNCTION_NAME, logger);

/**
 * `aggregate-temperatures`: Kafka batches of sensor readings in, closed 10 s windows out.
 * Throws to make the trigger retry the whole batch; returns nothing (bad records never fail it:
 * they go to the dead-letter topic).
 */
export const handler = async (event: KafkaTriggerEvent, context?: Context): Promise<void> => {
  const sink = await sinkFor(event.bootstrapServers);
  const aggregate = createAggregateHandler({
    ...base,
    sink,
    logger: context ? logger.child({ requestId: context.awsRequestId }) : logger,
    deadline: invocationDeadline(context),
  });
  const summary = await aggregate(event);
  addMetrics(FUNCTION_NAME, { ...summary });
  writeEmbeddedMetrics({ ...summary });
};
