import { isIP } from "node:net";
import { ConfigError } from "../lib/errors.ts";

/**
 * What a Kafka trigger's `FilterCriteria` may say, checked once when the trigger is declared so
 * that a filter AWS would refuse, or one the harness can't evaluate as AWS does, stops the
 * function at start instead of silently dropping (and committing) records. The matching itself is
 * `harness/emulator/event-filter.ts`.
 *
 * Sources:
 * - https://docs.aws.amazon.com/lambda/latest/dg/kafka-filtering.html: Kafka filters on `value`
 *   (decoded as UTF-8: a JSON object or a plain string) and on the record's metadata.
 * - https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html: the operators
 *   Lambda supports, up to 5 filters (OR-ed), a pattern of metadata and data properties.
 * - https://docs.aws.amazon.com/lambda/latest/api/API_Filter.html: a pattern is at most 4096
 *   characters.
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
 *   and eb-create-pattern-operators.html: the syntax, numeric limits, `$or`, and which operators
 *   work outside event buses ("Pipe support"; Pipes and Lambda share the filtering, see
 *   eb-pipes-event-filtering.html).
 */

/** An EventBridge pattern, as the template writes it into `FilterCriteria.Filters[].Pattern`. */
export type FilterPattern = Record<string, unknown>;

/** Filters per mapping: Lambda's default quota (a quota increase allows 10). */
export const MAX_FILTERS = 5;

/** `Filter.Pattern`'s length limit (API_Filter.html). */
export const MAX_PATTERN_CHARS = 4096;

/** EventBridge's numeric matching range (eb-event-patterns-content-based-filtering.html). */
export const NUMERIC_LIMIT = 5e9;

/** EventBridge refuses patterns whose `$or`s multiply out to more rule combinations than this. */
export const MAX_OR_COMBINATIONS = 1000;

/** The record's data property: the only field Lambda decodes before matching. */
export const DATA_FIELD = "value";

/**
 * The record's metadata properties, matched as the event carries them (strings and numbers).
 * `key` and `headers` are left out on purpose: see `refusedFields`.
 */
export const METADATA_FIELDS = ["topic", "partition", "offset", "timestamp", "timestampType"];

/** The comparison operators the harness evaluates, as Lambda's filter rule syntax lists them. */
export const FilterOperator = {
  equalsIgnoreCase: "equals-ignore-case",
  prefix: "prefix",
  suffix: "suffix",
  anythingBut: "anything-but",
  numeric: "numeric",
  exists: "exists",
  cidr: "cidr",
} as const;
const operatorNames: readonly string[] = Object.values(FilterOperator);

/** Record fields a filter may not name, with why and what to do instead. */
const refusedFields: Record<string, string> = {
  key: 'Lambda supports filtering Kafka records on "value" only, not on "key" (kafka-filtering.html): put the criterion in the value, or filter on the key in the handler',
  headers:
    "AWS documents no filtering on headers (lists of signed bytes), so the harness does not support it: filter on them in the handler",
};

/**
 * Forms EventBridge documents for event buses only (eb-create-pattern-operators.html, "Pipe
 * support: No"); Lambda's own list (invocation-eventfiltering.html) does not have them either.
 * Each with the fix.
 */
const eventBusOnly: Record<string, string> = {
  wildcard: "use prefix or suffix, or filter in the handler",
};
const eventBusOnlyAnythingBut: Record<string, string> = {
  prefix: "list the values to exclude in anything-but, or filter in the handler",
  suffix: "list the values to exclude in anything-but, or filter in the handler",
  "equals-ignore-case": "list each casing to exclude in anything-but, or filter in the handler",
  wildcard: "list the values to exclude in anything-but, or filter in the handler",
};

/** Throws a ConfigError naming the filter, the place in it and the fix for the first problem found. */
export const validateFilterCriteria = (where: string, patterns: readonly unknown[]): void => {
  check(
    Array.isArray(patterns) && patterns.length <= MAX_FILTERS,
    `${where} FilterCriteria allows at most ${MAX_FILTERS} filters, got ${Array.isArray(patterns) ? patterns.length : show(patterns)}`,
  );
  patterns.forEach((pattern, i) => {
    const at = `${where} FilterCriteria[${i}]`;
    check(
      isObject(pattern),
      `${at} must be a JSON object such as { "value": { "field": [ ... ] } }, got ${show(pattern)}`,
    );
    const text = JSON.stringify(pattern);
    check(
      text.length <= MAX_PATTERN_CHARS,
      `${at} is ${text.length} characters as JSON; a filter pattern holds at most ${MAX_PATTERN_CHARS}: split it into several filters`,
    );
    checkRecordLevel(at, pattern as FilterPattern, "");
    const combinations = orCombinations(pattern);
    check(
      combinations <= MAX_OR_COMBINATIONS,
      `${at} has ${combinations} rule combinations through "$or" (the product of their lengths); AWS refuses more than ${MAX_OR_COMBINATIONS}: split it into several filters`,
    );
  });
};

/** The top level names record fields: metadata, `value`, or `$or` of such patterns. */
const checkRecordLevel = (at: string, pattern: FilterPattern, path: string): void => {
  for (const [field, rule] of Object.entries(pattern)) {
    const here = `${path}${field}`;
    if (field === "$or") {
      checkOr(at, rule, here, (branch, branchPath) => checkRecordLevel(at, branch, branchPath));
    } else if (field === DATA_FIELD) {
      if (Array.isArray(rule)) checkRule(at, rule, here);
      else if (isObject(rule)) checkDataLevel(at, rule, `${here}.`);
      else
        fail(
          `${at} ${here} must be a list of matchers (for plain-string values, e.g. "value": [ { "prefix": "Hello" } ]) or an object of fields (for JSON values, e.g. "value": { "device_ID": [ ... ] }), got ${show(rule)}`,
        );
    } else if (Object.hasOwn(refusedFields, field)) {
      fail(`${at} filters on "${here}": ${refusedFields[field]}`);
    } else if (!METADATA_FIELDS.includes(field)) {
      fail(
        `${at} filters on "${here}", which a Kafka record does not have (it has ${[...METADATA_FIELDS, DATA_FIELD].join(", ")}), so it would drop every record: did you mean { "value": { "${field}": ... } }?`,
      );
    } else {
      check(
        Array.isArray(rule),
        `${at} ${here} is a single value of the record: its rule must be a list of matchers, e.g. "${field}": [ ... ], got ${show(rule)}`,
      );
      checkRule(at, rule as unknown[], here);
    }
  }
};

/** Inside a JSON value: nested objects down to lists of matchers, with `$or` anywhere. */
const checkDataLevel = (at: string, pattern: FilterPattern, path: string): void => {
  for (const [field, rule] of Object.entries(pattern)) {
    const here = `${path}${field}`;
    if (field === "$or") checkOr(at, rule, here, (b, p) => checkDataLevel(at, b, p));
    else if (Array.isArray(rule)) checkRule(at, rule, here);
    else if (isObject(rule)) checkDataLevel(at, rule, `${here}.`);
    else
      fail(
        `${at} ${here} must be a list of matchers, e.g. "${field}": [ ${show(rule)} ], or an object of nested fields, got ${show(rule)}`,
      );
  }
};

const checkOr = (
  at: string,
  rule: unknown,
  here: string,
  checkBranch: (branch: FilterPattern, path: string) => void,
): void => {
  check(
    Array.isArray(rule) && rule.length > 0 && rule.every(isObject),
    `${at} ${here} must be a non-empty list of patterns, e.g. "$or": [ { "a": [ 1 ] }, { "b": [ 2 ] } ], got ${show(rule)}`,
  );
  (rule as FilterPattern[]).forEach((branch, i) => {
    checkBranch(branch, `${here}[${i}].`);
  });
};

const checkRule = (at: string, rule: unknown[], here: string): void => {
  check(
    rule.length > 0,
    `${at} ${here} is an empty list, which matches nothing: list at least one value or matcher`,
  );
  for (const matcher of rule) checkMatcher(at, matcher, here);
};

const checkMatcher = (at: string, matcher: unknown, here: string): void => {
  if (matcher === null || ["string", "number", "boolean"].includes(typeof matcher)) return;
  const where = `${at} ${here}: ${show(matcher)}`;
  check(
    isObject(matcher),
    `${where} is not a matcher: use a value (string, number, boolean, null) or an object such as { "prefix": "..." }`,
  );
  const operators = Object.keys(matcher as object);
  check(
    operators.length === 1,
    `${where} must hold exactly one operator; to combine operators list several matchers, e.g. [ { "prefix": "a" }, { "suffix": "z" } ]`,
  );
  const operator = operators[0] as string;
  const argument = (matcher as Record<string, unknown>)[operator];
  if (Object.hasOwn(eventBusOnly, operator))
    fail(`${where}: "${operator}" ${notForLambda}: ${eventBusOnly[operator]}`);
  check(
    operatorNames.includes(operator),
    `${where}: "${operator}" is not an operator of Lambda's event filtering (it has ${operatorNames.join(", ")}, plus values, null and "" for equality): see https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html#filtering-syntax`,
  );
  switch (operator) {
    case FilterOperator.equalsIgnoreCase:
      check(typeof argument === "string", `${where}: equals-ignore-case takes a string`);
      return;
    case FilterOperator.prefix:
    case FilterOperator.suffix:
      check(
        typeof argument === "string" ||
          (isObject(argument) &&
            Object.keys(argument).length === 1 &&
            typeof argument["equals-ignore-case"] === "string"),
        `${where}: ${operator} takes a string, or { "equals-ignore-case": "..." } to ignore case`,
      );
      return;
    case FilterOperator.anythingBut:
      checkAnythingBut(where, argument);
      return;
    case FilterOperator.numeric:
      checkNumeric(where, argument);
      return;
    case FilterOperator.exists:
      check(typeof argument === "boolean", `${where}: exists takes true or false`);
      return;
    case FilterOperator.cidr:
      check(
        typeof argument === "string" && parseCidr(argument) !== undefined,
        `${where}: cidr takes an IPv4 or IPv6 range such as "10.0.0.0/24" or "2001:db8::/32"`,
      );
      return;
  }
};

const notForLambda =
  "is EventBridge event-bus only (eb-create-pattern-operators.html: no Pipe support; Lambda's filter rule syntax does not list it)";

const checkAnythingBut = (where: string, argument: unknown): void => {
  if (isObject(argument)) {
    const [inner = ""] = Object.keys(argument);
    fail(
      Object.hasOwn(eventBusOnlyAnythingBut, inner)
        ? `${where}: anything-but with "${inner}" ${notForLambda}: ${eventBusOnlyAnythingBut[inner]}`
        : `${where}: anything-but takes a string, a number, or a list of strings or of numbers`,
    );
  }
  const values = Array.isArray(argument) ? argument : [argument];
  check(
    values.length > 0 &&
      (values.every((v) => typeof v === "string") ||
        values.every((v) => typeof v === "number" && Number.isFinite(v))),
    `${where}: anything-but takes a string, a number, or a non-empty list of only strings or only numbers`,
  );
};

const lowerBounds = [">", ">="];
const upperBounds = ["<", "<="];

/** `["=", n]`, one bound, or one lower and one upper bound; numbers within ±5.0e9. */
const checkNumeric = (where: string, argument: unknown): void => {
  const form = `${where}: numeric takes [ "=", n ], [ ">", n ], or a range such as [ ">", 0, "<=", 5 ]`;
  check(Array.isArray(argument) && (argument.length === 2 || argument.length === 4), form);
  const terms = argument as unknown[];
  const bounds: { op: string; value: number }[] = [];
  for (let i = 0; i < terms.length; i += 2) {
    const op = terms[i];
    const value = terms[i + 1];
    check(typeof op === "string" && ["=", ...lowerBounds, ...upperBounds].includes(op), form);
    check(
      typeof value === "number" && Number.isFinite(value),
      `${where}: numeric compares with numbers, got ${show(value)}`,
    );
    check(
      Math.abs(value as number) <= NUMERIC_LIMIT,
      `${where}: ${value} is outside EventBridge's numeric range (-5.0e9..5.0e9), which AWS refuses; epoch-millisecond timestamps are past it: compare them in the handler`,
    );
    bounds.push({ op: op as string, value: value as number });
  }
  if (bounds.length === 2) {
    const lower = bounds.find((b) => lowerBounds.includes(b.op));
    const upper = bounds.find((b) => upperBounds.includes(b.op));
    check(lower !== undefined && upper !== undefined, form);
    check(
      (lower as { value: number }).value < (upper as { value: number }).value,
      `${where}: the range is empty, so it matches nothing: the lower bound must be below the upper one`,
    );
  }
};

/** `"10.0.0.0/24"`, `"2001:db8::/32"`, or a single address; undefined when it is none of these. */
export const parseCidr = (
  cidr: string,
): { address: string; prefix: number; family: "ipv4" | "ipv6" } | undefined => {
  const [address = "", prefixText, ...rest] = cidr.split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
};

/** How many plain patterns the `$or`s expand to: the product of their lengths. */
const orCombinations = (node: unknown): number => {
  if (Array.isArray(node)) return node.reduce((n: number, item) => n * orCombinations(item), 1);
  if (!isObject(node)) return 1;
  let total = 1;
  for (const [field, rule] of Object.entries(node)) {
    if (field === "$or" && Array.isArray(rule))
      total *= rule.reduce((n: number, branch) => n + orCombinations(branch), 0);
    else total *= orCombinations(rule);
  }
  return total;
};

const check = (ok: boolean, message: string): void => {
  if (!ok) fail(message);
};

const fail = (message: string): never => {
  throw new ConfigError(message);
};

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
