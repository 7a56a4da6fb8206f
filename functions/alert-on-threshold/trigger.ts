import { resolveTrigger } from "../trigger-declaration.ts";

/**
 * The Kafka trigger of `alert-on-threshold`: the same readings `aggregate-temperatures` reads, in a
 * consumer group of its own (`<stack>-alert-on-threshold`), so each function sees every reading.
 * `LATEST`: a new group alerts on what comes next, not on the topic's whole history; a small
 * function (256 MB, 30 s) as it only decodes and compares.
 * https://docs.aws.amazon.com/lambda/latest/dg/msk-esm-parameters.html
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-starting-positions.html
 */
export const trigger = resolveTrigger("alert-on-threshold", {
  topic: "raw-temperature",
  batchSize: 100,
  startingPosition: "LATEST",
  eventFlavour: "msk",
  timeoutSeconds: 30,
  memorySizeMb: 256,
});
