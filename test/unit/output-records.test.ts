import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Aggregation } from "../../core/aggregation.ts";
import {
  type TemperatureState,
  temperatureAggregation,
} from "../../core/temperature-aggregation.ts";
import {
  type ClosedWindow,
  type LateReading,
  type WindowRules,
  windowResult,
} from "../../core/window-engine.ts";
import { windowId } from "../../core/window-spec.ts";
import type { ClosedWindowState } from "../../core/window-state.ts";
import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import {
  closedWindowRecord,
  deadLetterRecord,
  lateRecord,
  MAX_DEAD_LETTER_BYTES,
  WINDOW_ID_HEADER,
  windowRecord,
} from "../../functions/output-records.ts";
import type { OutputRecord } from "../../functions/record-sink.ts";
import { rawRecord } from "../support/trigger-events.ts";

/**
 * The window and late records' JSON is written with templates; these hold it to exactly what
 * `JSON.stringify` of the record's object (as it was built before) writes.
 */

const RUNS = 2_000;

/** Any number: integers, fractions, -0, huge and tiny, NaN and the infinities (JSON: null). */
const anyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 1e21, 1e-7, 5e-324),
);

/** Strings JSON must escape: quotes, backslashes, control characters, lone surrogates, unicode. */
const anyString = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: fc.constantFrom('"', "\\", "\n", "\u0000", "\u2028", "\ud800", "é", "a") }),
  fc.integer({ min: 1, max: 99 }).map((n) => `Sensor${n}`),
);

/** What an aggregation may emit: the temperature summary, any JSON, and values JSON treats apart. */
const anyResult = fc.oneof(
  fc.record({ count: fc.nat(), min: anyNumber, max: anyNumber, mean: anyNumber }),
  fc.jsonValue(),
  fc.constantFrom(undefined, () => 1, new Date(0), { toJSON: (key: string) => `key ${key}` }),
  anyNumber,
);

/** Field names, those the template must not be used for among them. */
const outputField = fc.oneof(
  fc.constantFrom("temperature", "sensor", "time", "closedBy", "0", "17", "1e3", "__proto__", ""),
  anyString,
);

const closedWindow: fc.Arbitrary<ClosedWindow<unknown>> = fc.record({
  sensor: anyString,
  start: anyNumber,
  end: anyNumber,
  result: anyResult,
  closedBy: fc.constantFrom("stream-time", "idle"),
});

const lateReading: fc.Arbitrary<LateReading> = fc.record({
  reading: fc.record({
    sensor: anyString,
    eventTime: anyNumber,
    value: anyNumber,
    source: fc.record({
      topic: anyString,
      partition: anyNumber,
      offset: anyNumber,
      timestamp: anyNumber,
    }),
  }),
  windowStart: anyNumber,
  windowEnd: anyNumber,
  windowClosedAt: anyNumber,
  streamTime: anyNumber,
  lateByMs: anyNumber,
});

/** A temperature window's state as the engine keeps it (numbers, any of them). */
const temperatureState: fc.Arbitrary<TemperatureState> = fc.record({
  count: fc.oneof(fc.integer({ min: 1, max: 1_000 }), anyNumber),
  sum: anyNumber,
  min: anyNumber,
  max: anyNumber,
});

const closedWindowState: fc.Arbitrary<ClosedWindowState<TemperatureState>> = fc.record({
  sensor: anyString,
  start: fc.oneof(
    fc.integer({ min: 0, max: 2e12 }).map((n) => n - (n % 10_000)),
    anyNumber,
  ),
  state: temperatureState,
  closedBy: fc.constantFrom("stream-time", "idle"),
});

const aggregationNamed = (name: string) =>
  ({ outputField: name }) as unknown as Aggregation<unknown, unknown>;

describe("output records", () => {
  it("write a closed window exactly as JSON.stringify of its object", () => {
    fc.assert(
      fc.property(closedWindow, outputField, (window, field) => {
        const expected = JSON.stringify({
          sensor: window.sensor,
          start: window.start,
          end: window.end,
          time: window.end,
          [field]: window.result,
          closedBy: window.closedBy,
        });
        const record = windowRecord(window, aggregationNamed(field));
        expect(record.value).toBe(expected);
        expect(record.headers).toStrictEqual({
          [WINDOW_ID_HEADER]: windowId(window.sensor, window.start),
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("write a late reading exactly as JSON.stringify of its object", () => {
    fc.assert(
      fc.property(lateReading, (late) => {
        const { reading } = late;
        const expected = JSON.stringify({
          sensor: reading.sensor,
          eventTime: reading.eventTime,
          value: reading.value,
          windowStart: late.windowStart,
          windowEnd: late.windowEnd,
          windowClosedAt: late.windowClosedAt,
          streamTime: late.streamTime,
          lateByMs: late.lateByMs,
          source: {
            topic: reading.source.topic,
            partition: reading.source.partition,
            offset: reading.source.offset,
            timestamp: reading.source.timestamp,
          },
        });
        expect(lateRecord(late).value).toBe(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it("leave a field out as JSON.stringify does when a record does not have it", () => {
    const late = fc.sample(lateReading, { numRuns: 1, seed: 1 })[0] as LateReading;
    const withoutTimestamp = {
      ...late,
      reading: { ...late.reading, source: { ...late.reading.source, timestamp: undefined } },
    } as unknown as LateReading;
    expect(JSON.parse(lateRecord(withoutTimestamp).value).source).not.toHaveProperty("timestamp");
  });

  it("write the temperature aggregate exactly as JSON.stringify of its result", () => {
    fc.assert(
      fc.property(temperatureState, (state) => {
        expect(temperatureAggregation.resultJson?.(state)).toBe(
          JSON.stringify(temperatureAggregation.result(state)),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it("write an engine's closed window as windowRecord of its windowResult", () => {
    const rulesWith = (aggregation: Aggregation<TemperatureState, unknown>) =>
      ({
        spec: { sizeMs: 10_000, graceMs: 1_000 },
        closing: "key",
        aggregation,
      }) as WindowRules<TemperatureState, unknown>;
    // With the aggregation's own resultJson, and without one (the generic path).
    const { resultJson: _, ...withoutResultJson } = temperatureAggregation;
    const withField = (outputField: string) => ({ ...temperatureAggregation, outputField });
    fc.assert(
      fc.property(
        closedWindowState,
        fc.constantFrom(
          temperatureAggregation,
          withoutResultJson,
          withField("sensor"),
          withField("7"),
        ),
        (window, aggregation) => {
          const rules = rulesWith(aggregation as Aggregation<TemperatureState, unknown>);
          expect(closedWindowRecord(rules, window)).toStrictEqual(
            windowRecord(windowResult(rules, window), rules.aggregation),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("a dead letter stays under Kafka's 1 MB record limit", () => {
  const bad = (value: string, headers: KafkaTriggerRecord["headers"] = []) =>
    ({ ...rawRecord(7, value), headers }) as KafkaTriggerRecord;
  const sizeOf = (r: OutputRecord) => Buffer.byteLength(r.value) + (r.key?.length ?? 0);

  it("carries a small original exactly as delivered", () => {
    const record = bad("not json", [{ uuid: [49, 50] }]);
    const letter = JSON.parse(deadLetterRecord(record, "not-json", "why").value);
    expect(letter.original).toEqual({
      key: record.key,
      value: record.value,
      headers: [{ uuid: [49, 50] }],
    });
  });

  it.each([
    ["an 800 KB value (base64 adds a third)", bad("x".repeat(800_000))],
    [
      "300 KB of headers (signed bytes, up to four characters each)",
      bad("x", [{ h: Array(300_000).fill(-128) }]),
    ],
  ])("carries the sizes of %s, not its bytes", (_name, record) => {
    const out = deadLetterRecord(record, "not-json", "why");
    expect(sizeOf(out)).toBeLessThanOrEqual(MAX_DEAD_LETTER_BYTES);
    const letter = JSON.parse(out.value);
    expect(letter.source).toMatchObject({ topic: "raw-temperature", partition: 0, offset: 7 });
    expect(letter.original).toMatchObject({ key: record.key, value: null, headers: [] });
    expect(letter.original.omitted.why).toContain("source.offset");
    expect(out.key?.toString()).toBe("Sensor1");
  });
});
