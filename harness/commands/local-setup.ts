import { pathToFileURL } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import type {
  RegisteredKafkaFunction,
  RegisteredScheduledFunction,
} from "../../functions/registry.ts";
import type { TriggerDeclaration } from "../../functions/trigger-declaration.ts";
import type { StackEndpoints } from "../../stack/endpoints.ts";
import type { HarnessFunction, ScheduledFunction } from "../emulator/harness.ts";
import { useLocalAwsDefaults } from "./prepare-state-store.ts";

/** A command's Kafka client: its own client id, only kafkajs' errors logged. */
export const commandKafka = (clientId: string, brokers: string[]): Kafka =>
  new Kafka({ clientId, brokers, logLevel: logLevel.ERROR });

/** Points the functions the harness runs at the local stack, unless the environment says otherwise. */
export const useLocalStack = (env: NodeJS.ProcessEnv, endpoints: StackEndpoints): void => {
  // Functions log one line per batch at info; in a terminal that drowns the status lines.
  env.LOG_LEVEL ??= "warn";
  env.DYNAMODB_ENDPOINT ??= endpoints.dynamodbEndpoint;
  // Scheduled functions get no bootstrap servers in their event: tell them where Kafka is.
  env.KAFKA_BROKERS ??= endpoints.kafkaBrokers.join(",");
  useLocalAwsDefaults(env);
};

/** The module sandboxes import for a function from its source: its handler file, as a URL. */
export const sourceModule = (f: { handlerFile: string }) => pathToFileURL(f.handlerFile).href;

/** A Kafka-triggered function as the harness runs it, with `trigger` (the declared one, or overridden). */
export const harnessFunctionOf = (
  entry: RegisteredKafkaFunction,
  trigger: TriggerDeclaration = entry.trigger,
  module: string = sourceModule(entry),
): HarnessFunction => ({ name: entry.name, trigger, module, memorySizeMb: trigger.memorySizeMb });

/** A scheduled function as the harness runs it, every `periodMs`. */
export const scheduledFunctionOf = (
  entry: RegisteredScheduledFunction,
  periodMs: number,
  module: string = sourceModule(entry),
): ScheduledFunction => ({
  name: entry.name,
  module,
  timeoutSeconds: entry.schedule.timeoutSeconds,
  memorySizeMb: entry.schedule.memorySizeMb,
  periodMs,
});
