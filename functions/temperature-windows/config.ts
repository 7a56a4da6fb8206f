import { defaultWindowSpec } from "../../core/window-spec.ts";
import type { ClosingStrategy } from "../../core/window-state.ts";
import {
  choiceSetting,
  type Env,
  integerSetting,
  optionalSetting,
  stringSetting,
  TOPIC_NAME,
} from "../../lib/env-settings.ts";

const DAY_MS = 86_400_000;

export const StateStoreKind = { dynamodb: "dynamodb", memory: "memory" } as const;
export type StateStoreKindName = (typeof StateStoreKind)[keyof typeof StateStoreKind];

/**
 * What `aggregate-temperatures` and `sweep-idle-windows` both read from their environment,
 * validated, with defaults: they must agree on it, as they close the same windows in the same
 * state table and emit them to the same topic.
 */
export interface TemperatureWindowsConfig {
  /** `WINDOW_SIZE_MS`, default 10 000 (the seed's 10 s windows). */
  windowSizeMs: number;
  /** `WINDOW_GRACE_MS`, default 1 000. */
  windowGraceMs: number;
  /** `CLOSING_STRATEGY`: `key` (default, Quix's per-sensor stream time) or `partition`. */
  closingStrategy: (typeof ClosingStrategy)[keyof typeof ClosingStrategy];
  /** `OUTPUT_TOPIC`, default `agg-temperature`. */
  outputTopic: string;
  /** `LATE_TOPIC`, default `agg-temperature-late`. */
  lateTopic: string;
  /** `DEAD_LETTER_TOPIC`, default `raw-temperature-dlq`. */
  deadLetterTopic: string;
  /** `STATE_STORE`: `dynamodb` (default) or `memory` (tests and demos only: lost on restart). */
  stateStore: StateStoreKindName;
  /** `STATE_TABLE`, default `sensor-windows-state`. */
  stateTable: string;
  /** `STATE_RETENTION_MS`: how long a quiet sensor's state is kept. Default 1 day. */
  stateRetentionMs: number;
  /** `DYNAMODB_ENDPOINT`: unset in AWS (the SDK's default); `http://localhost:8000` locally. */
  dynamodbEndpoint: string | undefined;
  /** `KAFKA_BROKERS`: where output goes; unset = the event's `bootstrapServers`. */
  outputBrokers: string[] | undefined;
  /**
   * `IDLE_TIMEOUT_MS`: close the windows of a sensor quiet for this long (wall clock), through the
   * `sweep-idle-windows` function. Unset or 0 = off (Quix's behaviour: such windows never close).
   */
  idleTimeoutMs: number | undefined;
}

/** Reads and validates the shared configuration once, at cold start. Throws `ConfigError` naming the variable. */
export const readTemperatureWindowsConfig = (env: Env = process.env): TemperatureWindowsConfig => {
  const brokers = optionalSetting(env, "KAFKA_BROKERS");
  return {
    windowSizeMs: integerSetting(env, "WINDOW_SIZE_MS", defaultWindowSpec.sizeMs, {
      min: 1,
      max: DAY_MS,
    }),
    windowGraceMs: integerSetting(env, "WINDOW_GRACE_MS", defaultWindowSpec.graceMs, {
      min: 0,
      max: DAY_MS,
    }),
    closingStrategy: choiceSetting(env, "CLOSING_STRATEGY", ["key", "partition"], "key"),
    outputTopic: stringSetting(env, "OUTPUT_TOPIC", "agg-temperature", TOPIC_NAME),
    lateTopic: stringSetting(env, "LATE_TOPIC", "agg-temperature-late", TOPIC_NAME),
    deadLetterTopic: stringSetting(env, "DEAD_LETTER_TOPIC", "raw-temperature-dlq", TOPIC_NAME),
    stateStore: choiceSetting(env, "STATE_STORE", ["dynamodb", "memory"], "dynamodb"),
    stateTable: stringSetting(env, "STATE_TABLE", "sensor-windows-state", {
      test: /^[a-zA-Z0-9_.-]{3,255}$/,
      rule: "a DynamoDB table name ([a-zA-Z0-9_.-], 3..255 chars)",
    }),
    stateRetentionMs: integerSetting(env, "STATE_RETENTION_MS", DAY_MS, {
      min: 60_000,
      max: 365 * DAY_MS,
    }),
    dynamodbEndpoint: optionalSetting(env, "DYNAMODB_ENDPOINT"),
    outputBrokers: brokers?.split(",").map((b) => b.trim()),
    idleTimeoutMs:
      integerSetting(env, "IDLE_TIMEOUT_MS", 0, { min: 0, max: 7 * DAY_MS }) || undefined,
  };
};
