import type { TimestampSource } from "../../core/decode-reading.ts";
import { choiceSetting, type Env, integerSetting } from "../../lib/env-settings.ts";
import {
  readTemperatureWindowsConfig,
  type TemperatureWindowsConfig,
} from "../temperature-windows/config.ts";

const DAY_MS = 86_400_000;

/**
 * Everything `aggregate-temperatures` reads from its environment, validated, with defaults: the
 * window rules, topics and state it shares with `sweep-idle-windows`, and how it decodes readings.
 */
export interface AggregateConfig extends TemperatureWindowsConfig {
  /** `TIMESTAMP_SOURCE`: `payload` (default, the reading's `ts`) or `kafka` (the record timestamp). */
  timestampSource: (typeof TimestampSource)[keyof typeof TimestampSource];
  /** `MAX_EVENT_TIME_SKEW_MS`: how far `ts` may be ahead of the Kafka timestamp. Default 1 day. */
  maxEventTimeSkewMs: number;
}

/** Reads and validates the configuration once, at cold start. Throws `ConfigError` naming the variable. */
export const readAggregateConfig = (env: Env = process.env): AggregateConfig => ({
  ...readTemperatureWindowsConfig(env),
  timestampSource: choiceSetting(env, "TIMESTAMP_SOURCE", ["payload", "kafka"], "payload"),
  maxEventTimeSkewMs: integerSetting(env, "MAX_EVENT_TIME_SKEW_MS", DAY_MS, {
    min: 0,
    max: 365 * DAY_MS,
  }),
});
