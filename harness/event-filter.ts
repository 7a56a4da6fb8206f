import type { FilterPattern } from "../functions/trigger-declaration.ts";

/**
 * Lambda's event filtering for Kafka, applied to a record's `value` decoded as UTF-8 (a JSON object,
 * or a plain string matched as is). Patterns use EventBridge's syntax; a record passes when any
 * pattern matches (up to 5, OR-ed). Supported matchers: exact values, `prefix`, `suffix`,
 * `anything-but`, `numeric`, `exists`, and nested objects.
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-filtering.html
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
 */
export const passesFilters = (
  patterns: readonly FilterPattern[],
  valueBase64: string | null | undefined,
): boolean => {
  if (patterns.length === 0) return true;
  const text = valueBase64 == null ? null : Buffer.from(valueBase64, "base64").toString("utf8");
  let parsed: unknown = text;
  if (text !== null) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  const record = { value: parsed };
  return patterns.some((pattern) => matchesObject(pattern, record));
};

const matchesObject = (pattern: Record<string, unknown>, target: unknown): boolean =>
  Object.entries(pattern).every(([field, expected]) => {
    const actual = isObject(target) ? target[field] : undefined;
    if (Array.isArray(expected))
      return expected.some((m) => matchesValue(m, actual, isObject(target) && field in target));
    if (isObject(expected)) return matchesObject(expected, actual);
    return false;
  });

const matchesValue = (matcher: unknown, actual: unknown, present: boolean): boolean => {
  if (!isObject(matcher))
    return Array.isArray(actual) ? actual.some((a) => a === matcher) : actual === matcher;
  if ("exists" in matcher) return matcher.exists === present;
  if ("prefix" in matcher)
    return typeof actual === "string" && actual.startsWith(String(matcher.prefix));
  if ("suffix" in matcher)
    return typeof actual === "string" && actual.endsWith(String(matcher.suffix));
  if ("anything-but" in matcher) {
    const but = matcher["anything-but"];
    const excluded = Array.isArray(but) ? but : [but];
    if (isObject(but) && "prefix" in but)
      return typeof actual === "string" && !actual.startsWith(String(but.prefix));
    return present && !excluded.includes(actual);
  }
  if ("numeric" in matcher && Array.isArray(matcher.numeric))
    return matchesNumeric(matcher.numeric, actual);
  return false;
};

const matchesNumeric = (conditions: unknown[], actual: unknown): boolean => {
  if (typeof actual !== "number") return false;
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = Number(conditions[i + 1]);
    const ok =
      op === "="
        ? actual === bound
        : op === ">"
          ? actual > bound
          : op === ">="
            ? actual >= bound
            : op === "<"
              ? actual < bound
              : op === "<="
                ? actual <= bound
                : false;
    if (!ok) return false;
  }
  return true;
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
