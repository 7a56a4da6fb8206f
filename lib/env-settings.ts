import { ConfigError } from "./errors.ts";

/**
 * Readers for environment settings, each validating one variable and naming it, the accepted
 * values and what was found when it is wrong. Used once, at the edge (cold start, CLI parse).
 */
export type Env = Readonly<Record<string, string | undefined>>;

const raw = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
};

/** An integer in `min..max`, or `fallback` when unset. */
export const integerSetting = (
  env: Env,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number => {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new ConfigError(
      `${name} must be an integer ${range.min}..${range.max}, got "${value}" (unset it for the default ${fallback})`,
    );
  }
  return n;
};

/** One of `choices`, or `fallback` when unset. */
export const choiceSetting = <const C extends readonly string[]>(
  env: Env,
  name: string,
  choices: C,
  fallback: C[number],
): C[number] => {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!choices.includes(value)) {
    throw new ConfigError(`${name} must be one of ${choices.join(", ")}, got "${value}"`);
  }
  return value;
};

/** A non-empty string matching `pattern` (described by `rule`), or `fallback` when unset. */
export const stringSetting = (
  env: Env,
  name: string,
  fallback: string,
  pattern: { test: RegExp; rule: string } = { test: /^.+$/, rule: "non-empty" },
): string => {
  const value = raw(env, name) ?? fallback;
  if (!pattern.test.test(value)) {
    throw new ConfigError(`${name} must be ${pattern.rule}, got "${value}"`);
  }
  return value;
};

/** A string, or undefined when unset. */
export const optionalSetting = (env: Env, name: string): string | undefined => raw(env, name);

/** Kafka's legal topic names: https://kafka.apache.org/documentation/#topicconfigs */
export const TOPIC_NAME = {
  test: /^[a-zA-Z0-9._-]{1,249}$/,
  rule: "a Kafka topic name ([a-zA-Z0-9._-], 1..249 chars)",
};
