import { pathToFileURL } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { type FunctionSettings, readSettings } from "../../functions/function-declaration.ts";
import type {
  RegisteredKafkaFunction,
  RegisteredScheduledFunction,
} from "../../functions/registry.ts";
import { StateStoreKind } from "../../functions/temperature-windows/config.ts";
import type { TriggerDeclaration } from "../../functions/trigger-declaration.ts";
import { ConfigError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import type { StackEndpoints } from "../../stack/endpoints.ts";
import {
  type Harness,
  type HarnessFunction,
  type HarnessOptions,
  type ScheduledFunction,
  startHarness,
} from "../emulator/harness.ts";
import { prepareStateStore, useLocalAwsDefaults } from "./prepare-state-store.ts";

/*
 * What the commands that run functions against the local stack (`npm run harness`, `npm start`)
 * set up the same way: the functions' environment, then their state store and the harness.
 */

/** A command's Kafka client: its own client id, only kafkajs' errors logged. */
export const commandKafka = (clientId: string, brokers: string[]): Kafka =>
  new Kafka({ clientId, brokers, logLevel: logLevel.ERROR });

/** Points the functions the harness runs at the local stack, unless the environment says otherwise. */
const useLocalStack = (env: NodeJS.ProcessEnv, endpoints: StackEndpoints): void => {
  // Functions log one line per batch at info; in a terminal that drowns the status lines.
  env.LOG_LEVEL ??= "warn";
  env.DYNAMODB_ENDPOINT ??= endpoints.dynamodbEndpoint;
  // Scheduled functions get no bootstrap servers in their event: tell them where Kafka is.
  env.KAFKA_BROKERS ??= endpoints.kafkaBrokers.join(",");
  useLocalAwsDefaults(env);
};

/** What a command's flags tell the functions it runs; undefined leaves the environment's. */
export interface SettingsFromFlags {
  /** `STATE_STORE`: `dynamodb` or `memory`. */
  stateStore?: string | undefined;
  /** `IDLE_TIMEOUT_MS`, as the function reads it. */
  idleTimeoutMs?: string | undefined;
}

/**
 * The functions' environment: what the command's flags set, and the local stack's endpoints. Call
 * before anything reads the settings: the functions' cold starts, and the command deciding which
 * companions to run.
 */
export const useFunctionSettings = (
  env: NodeJS.ProcessEnv,
  settings: SettingsFromFlags,
  endpoints: StackEndpoints,
): void => {
  if (settings.stateStore !== undefined && !STATE_STORES.includes(settings.stateStore)) {
    throw new ConfigError(
      `--store must be ${STATE_STORES.join(" or ")}, got "${settings.stateStore}"`,
    );
  }
  if (settings.stateStore !== undefined) env.STATE_STORE = settings.stateStore;
  if (settings.idleTimeoutMs !== undefined) env.IDLE_TIMEOUT_MS = settings.idleTimeoutMs;
  useLocalStack(env, endpoints);
};

const STATE_STORES: readonly string[] = Object.values(StateStoreKind);

/**
 * The functions' declared settings as the environment now holds them (flags applied): a bad
 * value is refused before the command starts anything, not at a sandbox's first cold start.
 */
export const checkFunctionSettings = (
  functions: readonly { settings: FunctionSettings }[],
  env: NodeJS.ProcessEnv,
): void => {
  for (const f of functions) readSettings(f.settings, env);
};

/** The module sandboxes import for a function from its source: its handler file, as a URL. */
const sourceModule = (f: { handlerFile: string }) => pathToFileURL(f.handlerFile).href;

/** A Kafka-triggered function as the harness runs it: from `module`, with `trigger`. */
const harnessFunctionOf = (
  entry: RegisteredKafkaFunction,
  trigger: TriggerDeclaration,
  module: string,
): HarnessFunction => ({ name: entry.name, trigger, module, memorySizeMb: trigger.memorySizeMb });

/** A scheduled function as the harness runs it from `module`, every `periodMs`. */
const scheduledFunctionOf = (
  entry: RegisteredScheduledFunction,
  periodMs: number,
  module: string,
): ScheduledFunction => ({
  name: entry.name,
  module,
  timeoutSeconds: entry.schedule.timeoutSeconds,
  memorySizeMb: entry.schedule.memorySizeMb,
  periodMs,
});

/** One Kafka-triggered function and the scheduled companions that run beside it, locally. */
export interface LocalFunctions {
  entry: RegisteredKafkaFunction;
  /** Default: its declared trigger. */
  trigger?: TriggerDeclaration;
  /** Each companion with the period the harness invokes it at. */
  companions: readonly { entry: RegisteredScheduledFunction; periodMs: number }[];
  /** The module each function's sandboxes import. Default: its source (`sourceModule`). */
  moduleOf?: (f: RegisteredKafkaFunction | RegisteredScheduledFunction) => string;
}

/**
 * What a deploy would have made that the functions need (their state table, when one of them
 * declares it), then the harness running them against the local stack: call after
 * `useFunctionSettings`, as it reads their settings from the environment.
 */
export const startLocalHarness = async (
  { entry, trigger, companions, moduleOf = sourceModule }: LocalFunctions,
  connection: { kafka: Kafka; endpoints: StackEndpoints; logger: Logger },
  tuning: Pick<HarnessOptions, "maxConcurrency" | "onePartitionPerEvent"> = {},
): Promise<Harness> => {
  if ([entry, ...companions.map((c) => c.entry)].some((f) => f.stateTable)) {
    await prepareStateStore(process.env, connection.logger);
  }
  return startHarness({
    functions: [harnessFunctionOf(entry, trigger ?? entry.trigger, moduleOf(entry))],
    scheduled: companions.map((c) => scheduledFunctionOf(c.entry, c.periodMs, moduleOf(c.entry))),
    kafka: connection.kafka,
    bootstrapServers: connection.endpoints.kafkaBrokers,
    logger: connection.logger,
    ...tuning,
  });
};
