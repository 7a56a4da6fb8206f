import { TOPIC_NAME } from "../lib/env-settings.ts";
import { ConfigError } from "../lib/errors.ts";
import type { TriggerDeclaration } from "./trigger-declaration.ts";

/*
 * What a function is, declared once in its own folder (`functions/<name>/function.ts`, exporting
 * `declaration`): how it is triggered, what it reads from its environment, which topics it writes
 * and what it uses. The registry (functions/registry.ts) finds every folder that has one; the
 * harness runs them from it, `npm run build` bundles them (`functions/<name>/handler.ts`, exporting
 * `handler`) and `npm run template` deploys them, field for field, with a role that grants what
 * the declaration says and nothing else. Adding a function is adding its folder.
 */

export const FunctionKind = { kafka: "kafka", scheduled: "scheduled" } as const;
export type FunctionKindName = (typeof FunctionKind)[keyof typeof FunctionKind];

export const SettingType = { string: "String", number: "Number" } as const;
export type SettingTypeName = (typeof SettingType)[keyof typeof SettingType];

/**
 * One setting the function reads from an environment variable, set in AWS by a template parameter
 * of the same meaning (CloudFormation's parameter fields).
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
 */
export interface FunctionSetting {
  /** The environment variable the handler reads, e.g. `ALERT_THRESHOLD`. */
  env: string;
  /** The template parameter that sets it, e.g. `AlertThreshold`: shared by every function naming it. */
  parameter: string;
  type: SettingTypeName;
  /** The default, here, in the template and for the harness: the handler reads it when unset. */
  default: string | number;
  description: string;
  allowedValues?: readonly (string | number)[];
  minValue?: number;
  maxValue?: number;
  /** A Kafka topic name (checked as one when read). */
  topic?: boolean;
}

export type FunctionSettings = Readonly<Record<string, FunctionSetting>>;

/** An alarm on one of the function's own metrics (CloudWatch EMF, `lib/function-metrics.ts`). */
export interface MetricAlarm {
  /** The counter, as the handler writes it (`writeEmbeddedMetrics`). */
  metric: string;
  /** What it means when the counter is above 0 in five minutes, after the function's name. */
  description: string;
}

/**
 * Deploys the function only while a parameter is not a given value (CloudFormation conditions):
 * `sweep-idle-windows` only with `IdleTimeoutMs` above 0.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html
 */
export interface DeployCondition {
  /** The condition's name in the template, e.g. `IdleClosingOn`. */
  name: string;
  parameter: string;
  isNot: string | number;
}

interface CommonDeclaration<S extends FunctionSettings> {
  /** The folder's name: lowercase words and digits joined by hyphens. */
  name: string;
  /** One line, for the template's function description. */
  description: string;
  settings: S;
  /** The settings (keys of `settings`) naming topics the function produces to: its role may write them. */
  outputTopics: readonly (keyof S & string)[];
  /** Uses the project's DynamoDB state table (`state/`): the table's name in `STATE_TABLE`, its role may use it. */
  stateTable: boolean;
  metricAlarms: readonly MetricAlarm[];
  deployedWhen?: DeployCondition | undefined;
}

export interface KafkaFunctionDeclaration<S extends FunctionSettings = FunctionSettings>
  extends CommonDeclaration<S> {
  kind: typeof FunctionKind.kafka;
  /** What the harness polls and the template deploys, for both Kafka flavours. */
  trigger: TriggerDeclaration;
}

/**
 * How a scheduled function runs: an EventBridge schedule in AWS, a timer in the harness.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html
 */
export interface ScheduleDeclaration {
  /** Seconds between runs locally; the same period as `expression`. */
  periodSeconds: number;
  /** EventBridge's schedule expression, e.g. `rate(1 minute)`. */
  expression: string;
  timeoutSeconds: number;
  memorySizeMb: number;
  reservedConcurrentExecutions?: number;
  /** Asynchronous invocation: how long an event may wait, and retries of a failed run. */
  maximumEventAgeInSeconds: number;
  maximumRetryAttempts: number;
}

export interface ScheduledFunctionDeclaration<S extends FunctionSettings = FunctionSettings>
  extends CommonDeclaration<S> {
  kind: typeof FunctionKind.scheduled;
  schedule: ScheduleDeclaration;
  /**
   * The Kafka-triggered function it works for (`sweep-idle-windows` for `aggregate-temperatures`):
   * the harness runs it next to that function, when its `deployedWhen` holds locally.
   */
  companionOf?: string | undefined;
}

export type FunctionDeclaration = KafkaFunctionDeclaration | ScheduledFunctionDeclaration;

/** What a declaration says; settings, outputs, state and alarms may be left out (none). */
type Input<S extends FunctionSettings, D extends CommonDeclaration<S>> = Omit<
  D,
  "kind" | "settings" | "outputTopics" | "stateTable" | "metricAlarms"
> & {
  settings?: S;
  outputTopics?: readonly (keyof S & string)[];
  stateTable?: boolean;
  metricAlarms?: readonly MetricAlarm[];
};

const defaultsOf = <S extends FunctionSettings>(input: {
  settings?: S;
  outputTopics?: readonly (keyof S & string)[];
  stateTable?: boolean;
  metricAlarms?: readonly MetricAlarm[];
}) => ({
  settings: input.settings ?? ({} as S),
  outputTopics: input.outputTopics ?? [],
  stateTable: input.stateTable ?? false,
  metricAlarms: input.metricAlarms ?? [],
});

/** A function behind a Kafka trigger. Validated here: a mistake fails the import, naming the field. */
export const kafkaFunction = <const S extends FunctionSettings = Record<never, FunctionSetting>>(
  input: Input<S, KafkaFunctionDeclaration<S>>,
): KafkaFunctionDeclaration<S> => {
  if (input.deployedWhen !== undefined) {
    throw new ConfigError(
      `function ${input.name}: deployedWhen is for scheduled functions; a Kafka function always deploys with its trigger`,
    );
  }
  return validated({ ...input, ...defaultsOf(input), kind: FunctionKind.kafka });
};

/** A function run on a schedule. Validated here, as {@link kafkaFunction}. */
export const scheduledFunction = <
  const S extends FunctionSettings = Record<never, FunctionSetting>,
>(
  input: Input<S, ScheduledFunctionDeclaration<S>>,
): ScheduledFunctionDeclaration<S> =>
  validated({ ...input, ...defaultsOf(input), kind: FunctionKind.scheduled });

/** Lowercase words and digits joined by single hyphens, starting with a letter: `alert-on-threshold`. */
export const FUNCTION_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;
const PARAMETER_NAME = /^[A-Za-z0-9]{1,255}$/;
/** Set by the template for every function: a setting may not take them. */
export const RESERVED_ENV = [
  "STATE_STORE",
  "STATE_TABLE",
  "KAFKA_BROKERS",
  "KAFKA_AUTH",
  "KAFKA_SECRET_ARN",
  "KAFKA_CA_SECRET_ARN",
  "NODE_OPTIONS",
] as const;

const validated = <D extends CommonDeclaration<FunctionSettings>>(d: D): D => {
  const where = `function ${d.name}:`;
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new ConfigError(`${where} ${message}`);
  };
  check(
    FUNCTION_NAME.test(d.name) && d.name.length <= 64,
    `the name must be lowercase words and digits joined by hyphens, at most 64 characters (e.g. alert-on-threshold), got "${d.name}"`,
  );
  check(d.description.trim() !== "", "description must say what the function does");
  const envs = new Set<string>();
  const parameters = new Set<string>();
  for (const [key, s] of Object.entries(d.settings)) {
    check(ENV_NAME.test(s.env), `settings.${key}.env must be UPPER_SNAKE_CASE, got "${s.env}"`);
    check(
      !(RESERVED_ENV as readonly string[]).includes(s.env),
      `settings.${key}.env ${s.env} is set by the template for every function; choose another name`,
    );
    check(
      PARAMETER_NAME.test(s.parameter),
      `settings.${key}.parameter must be letters and digits (a CloudFormation parameter name), got "${s.parameter}"`,
    );
    check(!envs.has(s.env), `two settings read ${s.env}`);
    check(!parameters.has(s.parameter), `two settings take the parameter ${s.parameter}`);
    envs.add(s.env);
    parameters.add(s.parameter);
    check(
      s.type === SettingType.number ? typeof s.default === "number" : typeof s.default === "string",
      `settings.${key}.default must be a ${s.type === SettingType.number ? "number" : "string"}, got ${JSON.stringify(s.default)}`,
    );
  }
  if (d.deployedWhen !== undefined) {
    const { parameter } = d.deployedWhen;
    check(
      Object.values(d.settings).some((s) => s.parameter === parameter),
      `deployedWhen names the parameter ${parameter}, which none of its settings takes`,
    );
  }
  for (const key of d.outputTopics) {
    check(
      d.settings[key]?.topic === true,
      `outputTopics names "${key}", which is not a topic setting (settings.${key} with topic: true)`,
    );
  }
  return d;
};

type SettingInput<V> = Omit<FunctionSetting, "type" | "topic" | "default"> & { default: V };
type NumberSetting = FunctionSetting & { type: typeof SettingType.number; default: number };
type StringSetting = FunctionSetting & { type: typeof SettingType.string; default: string };

/** Setting declarations, with their type filled in (so `readSettings` knows what each returns). */
export const Setting = {
  /** A Kafka topic's name. */
  topic: (s: SettingInput<string>): StringSetting => ({
    ...s,
    type: SettingType.string,
    topic: true,
  }),
  number: (s: SettingInput<number>): NumberSetting => ({ ...s, type: SettingType.number }),
  string: (s: SettingInput<string>): StringSetting => ({ ...s, type: SettingType.string }),
} as const;

/** What {@link readSettings} returns: each setting's value, a number for a `Number` setting. */
export type SettingValues<S extends FunctionSettings> = {
  [K in keyof S]: S[K]["type"] extends typeof SettingType.number ? number : string;
};

/**
 * Reads the declared settings from the environment (once, at cold start), with their defaults,
 * each checked against its declaration: a bad value fails the cold start with a `ConfigError`
 * naming the variable, the rule and the value.
 */
export const readSettings = <S extends FunctionSettings>(
  settings: S,
  env: Readonly<Record<string, string | undefined>> = process.env,
): SettingValues<S> => {
  const values: Record<string, string | number> = {};
  for (const [key, s] of Object.entries(settings)) {
    const raw = env[s.env]?.trim();
    const text = raw === undefined || raw === "" ? undefined : raw;
    let value: string | number = s.default;
    if (text !== undefined && s.type === SettingType.number) {
      value = Number(text);
      if (!Number.isFinite(value)) {
        throw new ConfigError(
          `${s.env} must be a number, got "${text}" (unset it for ${s.default})`,
        );
      }
    } else if (text !== undefined) {
      value = text;
    }
    if (typeof value === "number") {
      if (
        (s.minValue !== undefined && value < s.minValue) ||
        (s.maxValue !== undefined && value > s.maxValue)
      ) {
        throw new ConfigError(
          `${s.env} must be ${s.minValue ?? "-∞"}..${s.maxValue ?? "∞"}, got ${value}`,
        );
      }
    }
    if (s.allowedValues !== undefined && !s.allowedValues.includes(value)) {
      throw new ConfigError(
        `${s.env} must be one of ${s.allowedValues.join(", ")}, got "${value}"`,
      );
    }
    if (s.topic === true && !TOPIC_NAME.test.test(String(value))) {
      throw new ConfigError(`${s.env} must be ${TOPIC_NAME.rule}, got "${value}"`);
    }
    values[key] = value;
  }
  return values as SettingValues<S>;
};

/** A setting's value in `env`: the variable when set, its default otherwise (unchecked). */
export const settingValue = (
  setting: FunctionSetting,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | number => {
  const raw = env[setting.env]?.trim();
  return raw === undefined || raw === "" ? setting.default : raw;
};

/** The topics the function writes, as named in `env` (or by default): what the harness creates locally. */
export const outputTopicNames = (
  d: FunctionDeclaration,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] =>
  d.outputTopics.map((key) => String(settingValue(d.settings[key] as FunctionSetting, env)));

/** Whether the function would deploy with these settings: its `deployedWhen` holds, or it has none. */
export const deployedWith = (
  d: FunctionDeclaration,
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean => {
  const when = d.deployedWhen;
  if (when === undefined) return true;
  const setting = Object.values(d.settings).find((s) => s.parameter === when.parameter);
  if (setting === undefined) return false;
  const value = settingValue(setting, env);
  // CloudFormation compares text; a number parameter compares as its number ("0" is 0).
  return setting.type === SettingType.number
    ? Number(value) !== Number(when.isNot)
    : String(value) !== String(when.isNot);
};
