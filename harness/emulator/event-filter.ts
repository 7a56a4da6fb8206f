import { BlockList, isIP } from "node:net";
import {
  DATA_FIELD,
  FilterOperator,
  type FilterPattern,
  isObject,
  parseCidr,
} from "../../functions/filter-criteria.ts";
import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";

/**
 * Lambda's event filtering for Kafka: does `record` pass any of `patterns` (OR-ed)? Patterns are
 * validated when the trigger is declared (`functions/filter-criteria.ts`), so only forms Lambda
 * supports reach here.
 *
 * - Metadata (`topic`, `partition`, `offset`, `timestamp`, `timestampType`) is matched as the
 *   event carries it.
 * - `value` is decoded as UTF-8 (kafka-filtering.html). A JSON object is matched by a JSON pattern
 *   (`"value": { "field": [...] }`), any other text by a plain-string pattern
 *   (`"value": [ ... ]`). When the two kinds differ, or the value is not UTF-8, Lambda "filters on
 *   the other metadata properties only": the filter's `value` part is ignored and its other
 *   parts decide.
 *
 * Where AWS is silent, the reading that loses nothing (delivers rather than drops):
 * - "valid JSON" is a JSON object: a JSON pattern can only name fields of an object, so other JSON
 *   texts (numbers, quoted strings such as the seed's double-encoded values, arrays) are plain
 *   strings;
 * - a record without a value (a tombstone) is filtered on its metadata only, like an undecodable
 *   one;
 * - values in arrays are matched one by one, not correlated across fields;
 * - numbers are compared by value (Lambda compares their text: 300 and 300.0 differ).
 *
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-filtering.html
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
 */
export const passesFilters = (
  patterns: readonly FilterPattern[],
  record: KafkaTriggerRecord,
): boolean => {
  if (patterns.length === 0) return true;
  let value: DecodedValue | undefined;
  const decoded = () => {
    value ??= decodeValue(record.value);
    return value;
  };
  return patterns.some((pattern) => matchesRecord(pattern, record, decoded));
};

/** What a record's value is to a filter. */
type DecodedValue =
  | { kind: "json"; object: Record<string, unknown> }
  | { kind: "text"; text: string }
  /** No value, or not UTF-8: only metadata filters apply. */
  | { kind: "none" };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const decodeValue = (base64: string | null | undefined): DecodedValue => {
  if (base64 == null) return { kind: "none" };
  let text: string;
  try {
    text = utf8.decode(Buffer.from(base64, "base64"));
  } catch {
    return { kind: "none" };
  }
  if (/^\s*\{/.test(text)) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isObject(parsed)) return { kind: "json", object: parsed };
    } catch {
      // Not JSON after all: a plain string.
    }
  }
  return { kind: "text", text };
};

/** The top level: metadata fields, `value`, and `$or` of such patterns. */
const matchesRecord = (
  pattern: FilterPattern,
  record: KafkaTriggerRecord,
  value: () => DecodedValue,
): boolean =>
  Object.entries(pattern).every(([field, rule]) => {
    if (field === "$or")
      return (
        Array.isArray(rule) && rule.some((b) => isObject(b) && matchesRecord(b, record, value))
      );
    if (field === DATA_FIELD) return matchesValue(rule, value());
    return matchesField(rule, valuesOf([record], field));
  });

/** A `value` rule of the other kind than the value is ignored: "metadata properties only". */
const matchesValue = (rule: unknown, value: DecodedValue): boolean => {
  if (Array.isArray(rule)) return value.kind === "text" ? matchesLeaf(rule, [value.text]) : true;
  if (isObject(rule)) return value.kind === "json" ? matchesObject(rule, [value.object]) : true;
  return false;
};

/** Inside a JSON value: every field of the pattern must match; `$or` needs one branch to. */
const matchesObject = (pattern: FilterPattern, targets: readonly unknown[]): boolean =>
  Object.entries(pattern).every(([field, rule]) => {
    if (field === "$or")
      return Array.isArray(rule) && rule.some((b) => isObject(b) && matchesObject(b, targets));
    return matchesField(rule, valuesOf(targets, field));
  });

const matchesField = (rule: unknown, values: readonly unknown[]): boolean => {
  if (Array.isArray(rule)) return matchesLeaf(rule, values);
  if (isObject(rule)) return matchesObject(rule, values);
  return false;
};

/** The values a field holds across `targets`, arrays flattened (EventBridge matches any element). */
const valuesOf = (targets: readonly unknown[], field: string): unknown[] => {
  const values: unknown[] = [];
  for (const target of targets)
    if (isObject(target) && Object.hasOwn(target, field)) flattenInto(values, target[field]);
  return values;
};

const flattenInto = (out: unknown[], value: unknown): void => {
  if (Array.isArray(value)) for (const v of value) flattenInto(out, v);
  else out.push(value);
};

/** A list of matchers, OR-ed, against a field's values. Objects are not leaves (exists says so). */
const matchesLeaf = (matchers: readonly unknown[], values: readonly unknown[]): boolean => {
  const leaves = values.filter((v) => !isObject(v));
  return matchers.some((matcher) => matchesMatcher(matcher, leaves));
};

const matchesMatcher = (matcher: unknown, leaves: readonly unknown[]): boolean => {
  if (!isObject(matcher)) return leaves.some((v) => v === matcher);
  const [operator, argument] = Object.entries(matcher)[0] ?? [];
  switch (operator) {
    case FilterOperator.exists:
      return argument === leaves.length > 0;
    case FilterOperator.equalsIgnoreCase:
      return strings(leaves).some((v) => fold(v) === fold(String(argument)));
    case FilterOperator.prefix:
      return strings(leaves).some((v) => affix(v, argument, (a, b) => a.startsWith(b)));
    case FilterOperator.suffix:
      return strings(leaves).some((v) => affix(v, argument, (a, b) => a.endsWith(b)));
    case FilterOperator.anythingBut: {
      const excluded: unknown[] = Array.isArray(argument) ? argument : [argument];
      return leaves.some((v) => !excluded.includes(v));
    }
    case FilterOperator.numeric:
      return leaves.some((v) => typeof v === "number" && inRange(v, argument as unknown[]));
    case FilterOperator.cidr:
      return strings(leaves).some((v) => inCidr(String(argument), v));
    default:
      return false;
  }
};

const strings = (leaves: readonly unknown[]): string[] =>
  leaves.filter((v): v is string => typeof v === "string");

/** Case-insensitive: upper then lower, so that "ß" meets "SS" and "ſ" meets "s". */
const fold = (s: string) => s.toUpperCase().toLowerCase();

/** `prefix`/`suffix` with a string, or with `{ "equals-ignore-case": "..." }`. */
const affix = (value: string, argument: unknown, test: (a: string, b: string) => boolean) =>
  typeof argument === "string"
    ? test(value, argument)
    : isObject(argument) && test(fold(value), fold(String(argument["equals-ignore-case"])));

const inRange = (value: number, terms: readonly unknown[]): boolean => {
  for (let i = 0; i + 1 < terms.length; i += 2) {
    const bound = terms[i + 1] as number;
    const ok =
      terms[i] === "="
        ? value === bound
        : terms[i] === ">"
          ? value > bound
          : terms[i] === ">="
            ? value >= bound
            : terms[i] === "<"
              ? value < bound
              : terms[i] === "<="
                ? value <= bound
                : false;
    if (!ok) return false;
  }
  return true;
};

/** One address list per range seen: the same few patterns come back record after record. */
const ranges = new Map<string, BlockList | null>();
const inCidr = (cidr: string, address: string): boolean => {
  let list = ranges.get(cidr);
  if (list === undefined) {
    const range = parseCidr(cidr);
    list = range === undefined ? null : new BlockList();
    if (range !== undefined) list?.addSubnet(range.address, range.prefix, range.family);
    ranges.set(cidr, list);
  }
  const version = isIP(address);
  return list !== null && version !== 0 && list.check(address, version === 4 ? "ipv4" : "ipv6");
};
