import { kafkaFunction } from "../function-declaration.ts";
import { windowSettings } from "../temperature-windows/settings.ts";
import type { BatchSummary } from "./aggregate-handler.ts";
import { trigger } from "./trigger.ts";

/** The EMF counter the dead-letter alarm watches: a field of the batch summary the handler writes. */
const DEAD_LETTERS_METRIC: keyof BatchSummary = "deadLetters";

/** `aggregate-temperatures`, as the harness runs it and the template deploys it. */
export const declaration = kafkaFunction({
  name: "aggregate-temperatures",
  description: "Kafka batches of readings in, closed event-time windows out",
  trigger,
  settings: windowSettings,
  outputTopics: ["outputTopic", "lateTopic", "deadLetterTopic"],
  stateTable: true,
  metricAlarms: [
    {
      metric: DEAD_LETTERS_METRIC,
      description: "sent records that are not readings to the dead-letter topic",
    },
  ],
});
