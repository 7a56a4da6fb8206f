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
  // The template deploys it; the harness holds each sandbox of the function to it (its heap
  // limit) and reports it as `context.memoryLimitInMB`.
  // https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
  memorySizeMb: 1024,
});
