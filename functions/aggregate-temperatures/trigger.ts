import { resolveTrigger } from "../trigger-declaration.ts";

/**
 * The Kafka trigger of `aggregate-temperatures`: what the harness polls locally and what the
 * deployment template declares in AWS.
 */
export const trigger = resolveTrigger("aggregate-temperatures", {
  topic: "raw-temperature",
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0.5,
  startingPosition: "TRIM_HORIZON",
  eventFlavour: "msk",
  timeoutSeconds: 60,
});
