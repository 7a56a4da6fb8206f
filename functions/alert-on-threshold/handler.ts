import type { Context } from "aws-lambda";
import { addMetrics, writeEmbeddedMetrics } from "../../lib/function-metrics.ts";
import { createLogger } from "../../lib/logger.ts";
import { readSettings } from "../function-declaration.ts";
import { configuredBrokers, lazyKafkaSink } from "../kafka-sink.ts";
import type { KafkaTriggerEvent } from "../kafka-trigger-event.ts";
import { createAlertHandler } from "./alert-handler.ts";
import { declaration } from "./function.ts";

/*
 * The Lambda entry point. Settings are read and checked once per cold start (a bad one fails it,
 * naming the variable); the Kafka producer lives at module level so warm invocations reuse it.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html
 */
const FUNCTION_NAME = declaration.name;
const logger = createLogger({ fields: { function: FUNCTION_NAME } });
const { alertTopic, threshold } = readSettings(declaration.settings);
const sinkFor = lazyKafkaSink(configuredBrokers(), FUNCTION_NAME, logger);

/** `alert-on-threshold`: readings in, an alert per reading above `ALERT_THRESHOLD` out. */
export const handler = async (event: KafkaTriggerEvent, context?: Context): Promise<void> => {
  const alert = createAlertHandler({
    threshold,
    topic: alertTopic,
    sink: await sinkFor(event.bootstrapServers),
    logger: context ? logger.child({ requestId: context.awsRequestId }) : logger,
  });
  const summary = await alert(event);
  addMetrics(FUNCTION_NAME, { ...summary });
  writeEmbeddedMetrics({ ...summary });
};
