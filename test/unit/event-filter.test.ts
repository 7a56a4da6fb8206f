import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import { type FilterPattern, resolveTrigger } from "../../functions/trigger-declaration.ts";
import { passesFilters } from "../../harness/emulator/event-filter.ts";
import { ConfigError } from "../../lib/errors.ts";

/** kafka-filtering.html's example record, with each kind of value the page's table speaks of. */
const records = JSON.parse(
  readFileSync(new URL("../fixtures/kafka-filtering-records.json", import.meta.url), "utf8"),
) as Record<"jsonValue" | "plainStringValue" | "utf16Value" | "tombstone", KafkaTriggerRecord>;

/** The example record with `value` set to this JSON document. */
const withJson = (value: unknown): KafkaTriggerRecord => ({
  ...records.jsonValue,
  value: Buffer.from(JSON.stringify(value)).toString("base64"),
});

const passes = (pattern: FilterPattern, record: KafkaTriggerRecord) =>
  passesFilters([pattern], record);

describe("Lambda's filters for Kafka (kafka-filtering.html)", () => {
  it("deliver everything when there are none", () => {
    expect(passesFilters([], records.utf16Value)).toBe(true);
  });

  it("pass a record that matches any of the filters (they are OR-ed)", () => {
    const filters = [{ partition: [7] }, { value: { device_ID: ["AB1234"] } }];
    expect(passesFilters(filters, records.jsonValue)).toBe(true);
    expect(passesFilters([{ partition: [7] }, { topic: ["other"] }], records.jsonValue)).toBe(
      false,
    );
  });

  it.each([
    ["device_ID begins with AB", { value: { device_ID: [{ prefix: "AB" }] } }, "jsonValue", true],
    [
      "the plain string is anything but error",
      { value: [{ "anything-but": ["error"] }] },
      "plainStringValue",
      true,
    ],
  ] as const)("follow the page's example: %s", (_, pattern, record, expected) => {
    expect(passes(pattern, records[record])).toBe(expected);
  });
});

describe("the value's format against the pattern's (the page's table)", () => {
  const jsonPattern = { value: { device_ID: ["AB1234"] } };
  const plainPattern = { value: [{ prefix: "Hello" }] };
  describe.each([
    // incoming value, pattern, passes, the table's row
    ["jsonValue", jsonPattern, true, "valid JSON, JSON pattern: filters on it"],
    [
      "jsonValue",
      { value: { device_ID: ["XY9"] } },
      false,
      "valid JSON, JSON pattern: filters on it",
    ],
    ["plainStringValue", plainPattern, true, "plain string, plain pattern: filters on it"],
    [
      "plainStringValue",
      { value: [{ prefix: "Bye" }] },
      false,
      "plain string, plain pattern: filters on it",
    ],
    ["plainStringValue", jsonPattern, true, "plain string, JSON pattern: metadata only"],
    ["jsonValue", plainPattern, true, "valid JSON, plain pattern: metadata only"],
    ["utf16Value", jsonPattern, true, "non-UTF-8, JSON pattern: metadata only"],
    ["utf16Value", plainPattern, true, "non-UTF-8, plain pattern: metadata only"],
    ["tombstone", jsonPattern, true, "no value (AWS is silent): metadata only"],
    ["tombstone", plainPattern, true, "no value (AWS is silent): metadata only"],
  ] as const)("%s with %j", (record, pattern, expected, row) => {
    it(`${expected ? "passes" : "is dropped"} (${row})`, () => {
      expect(passes(pattern, records[record])).toBe(expected);
    });
  });

  it.each([
    ["plainStringValue", { partition: [1], value: { device_ID: ["AB1234"] } }],
    ["jsonValue", { topic: ["other"], value: [{ prefix: "Hello" }] }],
    ["utf16Value", { offset: [{ numeric: ["<", 15] }], value: { device_ID: ["AB1234"] } }],
    ["tombstone", { timestampType: ["LOG_APPEND_TIME"], value: { device_ID: ["AB1234"] } }],
  ] as const)(
    "still apply the metadata of a filter whose value part is ignored: %s, %j",
    (record, pattern) => {
      expect(passes(pattern, records[record])).toBe(false);
    },
  );

  it("treats JSON that is not an object (a number, a quoted string, an array) as a plain string", () => {
    const quoted = {
      ...records.plainStringValue,
      value: Buffer.from('"error"').toString("base64"),
    };
    expect(passes({ value: ['"error"'] }, quoted)).toBe(true);
    expect(passes({ value: { error: [{ exists: true }] } }, quoted)).toBe(true);
    expect(passes({ value: ["42"] }, withJson(42))).toBe(true);
  });
});

describe("filters on the record's metadata", () => {
  it.each([
    [{ topic: ["mytopic"] }, true],
    [{ topic: ["other"] }, false],
    [{ partition: [0] }, true],
    [{ partition: [1, 2] }, false],
    [{ offset: [{ numeric: [">=", 15] }] }, true],
    [{ offset: [{ numeric: [">", 15] }] }, false],
    [{ timestamp: [{ exists: true }] }, true],
    [{ timestampType: ["CREATE_TIME"] }, true],
    [{ timestampType: ["LOG_APPEND_TIME"] }, false],
    [{ partition: [0], value: { session: { duration: [162] } } }, true],
    [{ partition: [0], value: { session: { duration: [163] } } }, false],
  ])("%j → %s", (pattern, expected) => {
    expect(passes(pattern, records.jsonValue)).toBe(expected);
  });
});

describe("comparison operators (invocation-eventfiltering.html, EventBridge's content filtering)", () => {
  describe.each([
    // operator, field value in the JSON value, matcher, passes
    ["equals", "Alice", "Alice", true],
    ["equals is case-sensitive", "alice", "Alice", false],
    ["equals keeps types", "5", 5, false],
    ["equals a number", 5, 5, true],
    ["equals a boolean", true, true, true],
    ["null", null, null, true],
    ["null is not empty", "", null, false],
    ["empty", "", "", true],
    ["equals-ignore-case", "ALICE", { "equals-ignore-case": "alice" }, true],
    ["equals-ignore-case", "Bob", { "equals-ignore-case": "alice" }, false],
    ["equals-ignore-case on a number", 5, { "equals-ignore-case": "5" }, false],
    ["prefix", "us-east-1", { prefix: "us-" }, true],
    ["prefix", "eu-west-1", { prefix: "us-" }, false],
    ["prefix ignoring case", "EVENTBRIDGE", { prefix: { "equals-ignore-case": "EventB" } }, true],
    ["prefix ignoring case", "lambda", { prefix: { "equals-ignore-case": "EventB" } }, false],
    ["suffix", "photo.png", { suffix: ".png" }, true],
    ["suffix", "photo.jpg", { suffix: ".png" }, false],
    ["suffix ignoring case", "PHOTO.PNG", { suffix: { "equals-ignore-case": ".png" } }, true],
    ["anything-but a string", "Sunny", { "anything-but": "Raining" }, true],
    ["anything-but a string", "Raining", { "anything-but": "Raining" }, false],
    ["anything-but a list", "stopped", { "anything-but": ["stopped", "overloaded"] }, false],
    ["anything-but a number", 124, { "anything-but": 123 }, true],
    ["anything-but numbers", 200, { "anything-but": [100, 200, 300] }, false],
    ["numeric =", 100, { numeric: ["=", 100] }, true],
    ["numeric range, upper bound included", 20, { numeric: [">", 10, "<=", 20] }, true],
    ["numeric range, lower bound excluded", 10, { numeric: [">", 10, "<=", 20] }, false],
    ["numeric on a string", "15", { numeric: [">", 10] }, false],
    ["exists", "x", { exists: true }, true],
    ["exists on null", null, { exists: true }, true],
    ["does not exist", "x", { exists: false }, false],
    ["cidr IPv4", "10.0.0.7", { cidr: "10.0.0.0/24" }, true],
    ["cidr IPv4", "10.0.1.7", { cidr: "10.0.0.0/24" }, false],
    ["cidr IPv6", "2001:db8::1", { cidr: "2001:db8::/32" }, true],
    ["cidr on a non-address", "localhost", { cidr: "10.0.0.0/24" }, false],
    ["any element of an array", ["a", "b"], "b", true],
    ["no element of an array", ["a", "b"], "c", false],
  ] as const)("%s: %j against %j", (_, fieldValue, matcher, expected) => {
    it(expected ? "passes" : "is dropped", () => {
      const pattern = { value: { field: [matcher] } } as FilterPattern;
      expect(passes(pattern, withJson({ field: fieldValue }))).toBe(expected);
    });
  });

  it.each([
    ["absent field, exists: false", {}, [{ exists: false }], true],
    ["absent field, exists: true", {}, [{ exists: true }], false],
    ["absent field, anything-but", {}, [{ "anything-but": "x" }], false],
    ["an object is not a leaf: exists: true", { field: { a: 1 } }, [{ exists: true }], false],
    ["an object is not a leaf: exists: false", { field: { a: 1 } }, [{ exists: false }], true],
    ["matchers of one field are OR-ed", { field: "b" }, ["a", { prefix: "b" }], true],
  ])("%s", (_, value, rule, expected) => {
    expect(passes({ value: { field: rule } }, withJson(value))).toBe(expected);
  });

  it.each([
    [{ value: { session: { duration: [{ numeric: [">", 100] }] } } }, true],
    [{ value: { session: { duration: [{ numeric: ["<", 100] }] } } }, false],
    [{ value: { device_ID: ["AB1234"], session: { duration: [162] } } }, true],
    [{ value: { device_ID: ["AB1234"], session: { duration: [1] } } }, false],
  ])("nested fields and And: %j → %s", (pattern, expected) => {
    expect(passes(pattern, records.jsonValue)).toBe(expected);
  });

  it.each([
    [{ value: { $or: [{ device_ID: ["XY"] }, { session: { duration: [162] } }] } }, true],
    [{ value: { $or: [{ device_ID: ["XY"] }, { session: { duration: [1] } }] } }, false],
    [{ $or: [{ partition: [5] }, { value: { device_ID: ["AB1234"] } }] }, true],
    [{ $or: [{ partition: [5] }, { topic: ["other"] }] }, false],
    [{ partition: [0], $or: [{ offset: [1] }, { offset: [15] }] }, true],
  ])("or across fields: %j → %s", (pattern, expected) => {
    expect(passes(pattern, records.jsonValue)).toBe(expected);
  });
});

describe("resolveTrigger refuses, at start, filters AWS refuses or the harness can't match as AWS does", () => {
  const declare = (filterCriteria: unknown[]) =>
    resolveTrigger("f", { topic: "t", filterCriteria: filterCriteria as FilterPattern[] });
  const many = (n: number, branch: (i: number) => FilterPattern) =>
    Array.from({ length: n }, (_, i) => branch(i));

  it.each([
    [
      { key: ["QUIxMjM0"] },
      'filters on "key": Lambda supports filtering Kafka records on "value" only',
    ],
    [{ headers: [{ exists: true }] }, 'filters on "headers"'],
    [{ device_ID: ["AB1234"] }, 'did you mean { "value": { "device_ID": ... } }?'],
    [{ eventSource: ["aws:kafka"] }, "which a Kafka record does not have"],
    [{ partition: 0 }, "partition is a single value of the record: its rule must be a list"],
    [{ value: "error" }, "value must be a list of matchers (for plain-string values"],
    [{ value: { a: 1 } }, "value.a must be a list of matchers"],
    [{ value: { a: [] } }, "value.a is an empty list, which matches nothing"],
    [{ value: { a: [[1]] } }, "is not a matcher"],
    [{ value: { a: [{ prefix: "a", suffix: "z" }] } }, "must hold exactly one operator"],
    [
      { value: { a: [{ contains: "x" }] } },
      '"contains" is not an operator of Lambda\'s event filtering',
    ],
    [{ value: { a: [{ wildcard: "*.png" }] } }, '"wildcard" is EventBridge event-bus only'],
    [
      { value: { a: [{ "anything-but": { prefix: "init" } }] } },
      'anything-but with "prefix" is EventBridge event-bus only',
    ],
    [{ value: { a: [{ "anything-but": { suffix: ".png" } }] } }, 'anything-but with "suffix"'],
    [
      { value: { a: [{ "anything-but": { "equals-ignore-case": "x" } }] } },
      'anything-but with "equals-ignore-case"',
    ],
    [{ value: { a: [{ "anything-but": { wildcard: "*x" } }] } }, 'anything-but with "wildcard"'],
    [{ value: { a: [{ "anything-but": ["a", 1] }] } }, "only strings or only numbers"],
    [{ value: { a: [{ "anything-but": [] }] } }, "non-empty list"],
    [{ value: { a: [{ "equals-ignore-case": 1 }] } }, "equals-ignore-case takes a string"],
    [
      { value: { a: [{ prefix: { "anything-but": "x" } }] } },
      'prefix takes a string, or { "equals-ignore-case"',
    ],
    [{ value: { a: [{ numeric: [">", "10"] }] } }, 'numeric compares with numbers, got "10"'],
    [{ value: { a: [{ numeric: ["!=", 10] }] } }, "numeric takes"],
    [{ value: { a: [{ numeric: ["=", 1, "<", 5] }] } }, "numeric takes"],
    [{ value: { a: [{ numeric: [">", 5, "<", 1] }] } }, "the range is empty"],
    [{ timestamp: [{ numeric: [">", 1_700_000_000_000] }] }, "outside EventBridge's numeric range"],
    [{ value: { a: [{ exists: "yes" }] } }, "exists takes true or false"],
    [{ value: { a: [{ cidr: "10.0.0.0/33" }] } }, "cidr takes an IPv4 or IPv6 range"],
    [{ value: { $or: [] } }, "value.$or must be a non-empty list of patterns"],
    [{ $or: [{ key: ["x"] }, { partition: [0] }] }, 'filters on "$or[0].key"'],
  ])("%j", (pattern, message) => {
    expect(() => declare([pattern])).toThrow(ConfigError);
    expect(() => declare([pattern])).toThrow(message);
  });

  it.each([
    [
      "a pattern longer than 4096 characters (API_Filter.html)",
      { value: { a: ["x".repeat(4100)] } },
      "a filter pattern holds at most 4096",
    ],
    [
      "more than 1000 rule combinations through or-patterns (11 × 100)",
      {
        $or: many(11, (i) => ({ partition: [i] })),
        value: { $or: many(100, (i) => ({ i: [i] })) },
      },
      "1100 rule combinations",
    ],
  ])("%s", (_, pattern, message) => {
    expect(() => declare([pattern])).toThrow(ConfigError);
    expect(() => declare([pattern])).toThrow(message);
  });

  it("names the filter and the function in the message", () => {
    expect(() => declare([{ partition: [0] }, { key: ["x"] }])).toThrow(
      /^trigger of f: FilterCriteria\[1\] filters on "key"/,
    );
  });

  it.each([
    [5, false],
    [6, true],
  ])("allows at most 5 filters: %i", (n, refused) => {
    const attempt = () => declare(many(n, (i) => ({ partition: [i] })));
    if (refused) expect(attempt).toThrow("FilterCriteria allows at most 5 filters, got 6");
    else expect(attempt).not.toThrow();
  });

  it.each([
    { value: { device_ID: [{ prefix: "AB" }] } },
    { value: [{ "anything-but": ["error"] }] },
    { value: { a: [null, "", "Alice", 5, true, { "equals-ignore-case": "alice" }] } },
    { value: { a: [{ prefix: { "equals-ignore-case": "us" } }, { suffix: ".png" }] } },
    { value: { a: [{ "anything-but": 1 }, { "anything-but": ["x", "y"] }] } },
    { value: { a: [{ numeric: ["<", 10] }, { numeric: [">=", -5e9, "<=", 5e9] }] } },
    { value: { a: [{ exists: false }, { cidr: "2001:db8::/32" }, { cidr: "10.0.0.1" }] } },
    { value: { $or: [{ a: [1] }, { b: { c: [2] } }] } },
    { $or: [{ partition: [0] }, { value: { a: [1] } }], topic: ["t"] },
    { offset: [{ numeric: [">", 100] }], timestampType: ["CREATE_TIME"] },
  ])("accepts %j", (pattern) => {
    expect(() => declare([pattern])).not.toThrow();
  });
});
