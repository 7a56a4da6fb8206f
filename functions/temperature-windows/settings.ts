import { Setting } from "../function-declaration.ts";
import { readTemperatureWindowsConfig } from "./config.ts";
import { sweepSchedule } from "./sweep-schedule.ts";

const DAY_MS = 86_400_000;
const defaults = readTemperatureWindowsConfig({});

/**
 * What `aggregate-temperatures` and `sweep-idle-windows` read from their environment and the
 * template sets from its parameters: the same window rules, topics and idle timeout for both.
 * Defaults and ranges are those `config.ts` applies.
 */
export const windowSettings = {
  outputTopic: Setting.topic({
    env: "OUTPUT_TOPIC",
    parameter: "OutputTopic",
    default: defaults.outputTopic,
    description: "Closed windows",
  }),
  lateTopic: Setting.topic({
    env: "LATE_TOPIC",
    parameter: "LateTopic",
    default: defaults.lateTopic,
    description: "Readings that came after their window closed",
  }),
  deadLetterTopic: Setting.topic({
    env: "DEAD_LETTER_TOPIC",
    parameter: "DeadLetterTopic",
    default: defaults.deadLetterTopic,
    description: "Records that are not readings",
  }),
  windowSizeMs: Setting.number({
    env: "WINDOW_SIZE_MS",
    parameter: "WindowSizeMs",
    default: defaults.windowSizeMs,
    minValue: 1,
    maxValue: DAY_MS,
    description: "Window length, ms",
  }),
  windowGraceMs: Setting.number({
    env: "WINDOW_GRACE_MS",
    parameter: "WindowGraceMs",
    default: defaults.windowGraceMs,
    minValue: 0,
    maxValue: DAY_MS,
    description: "How long after its end a window accepts out-of-order readings, ms",
  }),
  closingStrategy: Setting.string({
    env: "CLOSING_STRATEGY",
    parameter: "ClosingStrategy",
    default: defaults.closingStrategy,
    allowedValues: ["key", "partition"],
    description: "key: stream time per sensor; partition: per Kafka partition",
  }),
  idleTimeoutMs: Setting.number({
    env: "IDLE_TIMEOUT_MS",
    parameter: "IdleTimeoutMs",
    default: 0,
    minValue: 0,
    maxValue: 7 * DAY_MS,
    description: `0 = off; above 0 also deploys sweep-idle-windows on an EventBridge ${sweepSchedule.expression} schedule`,
  }),
} as const;
