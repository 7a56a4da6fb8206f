import { describe, expect, it } from "vitest";
import { BadRecordReason, type DecodeOptions, decodeReading } from "../../core/decode-reading.ts";
import { fixtureEvent, rawRecord, readingRecord } from "../support/trigger-events.ts";

const options: DecodeOptions = { timestampSource: "payload", maxEventTimeSkewMs: 86_400_000 };
const NOON = Date.UTC(2024, 4, 1, 12, 0, 0);

const recordsOf = (name: string) => Object.values(fixtureEvent(name).records).flat();

describe("decodeReading", () => {
  it("reads a sensor id from the key and {ts, value} from the value", () => {
    const decoded = decodeReading(
      readingRecord({ sensor: "Sensor7", ts: NOON, value: 21.5, offset: 3 }),
      options,
    );
    expect(decoded).toEqual({
      ok: true,
      reading: {
        sensor: "Sensor7",
        eventTime: NOON,
        value: 21.5,
        source: expect.objectContaining({
          topic: "raw-temperature",
          partition: 0,
          offset: 3,
          timestamp: NOON,
        }),
      },
    });
  });

  it("routes the AWS documentation's example MSK event to the dead-letter path: its value is not a reading", () => {
    const [record] = recordsOf("msk-documentation-event.json");
    const decoded = decodeReading(record as never, options);
    expect(decoded).toMatchObject({ ok: false, reason: BadRecordReason.notJson });
    expect(decoded.ok ? "" : decoded.detail).toContain("Hello, this is a test.");
  });

  it("reads a self-managed Kafka event", () => {
    const decoded = recordsOf("self-managed-readings-event.json").map((r) =>
      decodeReading(r, options),
    );
    expect(
      decoded.map((d) =>
        d.ok ? [d.reading.sensor, d.reading.eventTime, d.reading.value] : d.reason,
      ),
    ).toEqual([
      ["Sensor1", NOON + 123, 20],
      ["Sensor1", NOON + 5000, 22],
      ["Sensor1", NOON + 11_000, 25],
    ]);
  });

  it("reads the seed producer's double-encoded values (a JSON string holding the JSON)", () => {
    const decoded = recordsOf("seed-double-encoded-event.json").map((r) =>
      decodeReading(r, options),
    );
    expect(decoded.every((d) => d.ok)).toBe(true);
    expect(decoded.map((d) => (d.ok ? d.reading.value : null))).toEqual([40, 44, 48]);
  });

  it("ignores headers, whatever their signed bytes", () => {
    const [record] = recordsOf("signed-header-bytes-event.json");
    expect(
      record?.headers.some((h) => Object.values(h).some((bytes) => bytes.some((b) => b < 0))),
    ).toBe(true);
    expect(decodeReading(record as never, options)).toMatchObject({
      ok: true,
      reading: { sensor: "Sensor3", value: 30 },
    });
  });

  it("dead-letters absent and null keys and values, as real payloads carry them", () => {
    const reasons = recordsOf("null-key-and-value-event.json").map((r) => {
      const d = decodeReading(r, options);
      return d.ok ? "ok" : d.reason;
    });
    expect(reasons).toEqual(["missing-key", "missing-value", "missing-key", "missing-value"]);
  });

  describe.each([
    ["not JSON", "{ts: 1", "not-json", "not JSON"],
    ["JSON null", "null", "not-an-object", "got null"],
    ["an array", "[1, 2]", "not-an-object", "got an array"],
    ["a number", "42", "not-an-object", "got number 42"],
    [
      "a double-encoded non-object",
      JSON.stringify(JSON.stringify("hi")),
      "not-an-object",
      'got "hi"',
    ],
    ["no ts", JSON.stringify({ value: 1 }), "missing-ts", "no ts"],
    ["ts null", JSON.stringify({ ts: null, value: 1 }), "missing-ts", "no ts"],
    [
      "an unparseable ts",
      JSON.stringify({ ts: "soon", value: 1 }),
      "bad-ts",
      '"soon" is not ISO-8601',
    ],
    ["no value", JSON.stringify({ ts: NOON }), "bad-value", "got undefined"],
    ["value null", JSON.stringify({ ts: NOON, value: null }), "bad-value", "got null"],
    ["value a string", JSON.stringify({ ts: NOON, value: "21" }), "bad-value", 'got "21"'],
    ["value a bool", JSON.stringify({ ts: NOON, value: true }), "bad-value", "got boolean true"],
    [
      "ts two days ahead of Kafka's timestamp",
      JSON.stringify({ ts: 1_714_564_800_000 + 2 * 86_400_000, value: 1 }),
      "ts-too-far-ahead",
      "MAX_EVENT_TIME_SKEW_MS",
    ],
  ])("a value that is %s", (_name, value, reason, detail) => {
    it(`goes to the dead-letter topic as ${reason}`, () => {
      const decoded = decodeReading(rawRecord(0, value), options);
      expect(decoded).toMatchObject({ ok: false, reason });
      expect(decoded.ok ? "" : decoded.detail).toContain(detail);
    });
  });

  describe.each([
    ["1e15", "1e15", true],
    ["-1e15", "-1e15", true],
    ["1000000000000001", "1000000000000001", false],
    ["1e308 (two of them overflow a sum)", "1e308", false],
  ])("a value of %s", (_name, value, ok) => {
    it(ok ? "is a reading" : "goes to the dead-letter topic as bad-value", () => {
      const decoded = decodeReading(rawRecord(0, `{"ts": ${NOON}, "value": ${value}}`), options);
      expect(decoded).toMatchObject(
        ok ? { ok, reading: { value: Number(value) } } : { ok, reason: "bad-value" },
      );
      if (!decoded.ok) expect(decoded.detail).toContain("within ±1000000000000000");
    });
  });

  describe.each([
    ["1 024 ASCII bytes", "S".repeat(1_024), true],
    ["1 025 ASCII bytes", "S".repeat(1_025), false],
    ["1 023 bytes ending in a 2-byte character", `${"S".repeat(1_021)}é`, true],
    ["1 026 bytes of 2-byte characters", "é".repeat(513), false],
  ])("a sensor id of %s", (_name, sensor, ok) => {
    it(ok ? "is a reading" : "goes to the dead-letter topic as key-too-long", () => {
      const decoded = decodeReading(readingRecord({ sensor, ts: NOON, offset: 0 }), options);
      expect(decoded).toMatchObject(
        ok ? { ok, reading: { sensor } } : { ok, reason: "key-too-long" },
      );
      if (!decoded.ok) expect(decoded.detail).toContain("at most 1024 bytes");
    });
  });

  it("takes the Kafka timestamp as event time when configured, ignoring ts", () => {
    const record = readingRecord({ ts: "not a time", offset: 0, timestamp: NOON + 42 });
    expect(decodeReading(record, { ...options, timestampSource: "kafka" })).toMatchObject({
      ok: true,
      reading: { eventTime: NOON + 42 },
    });
  });

  it("accepts event time up to the skew ahead, not beyond", () => {
    const at = (ts: number) =>
      decodeReading(readingRecord({ ts, offset: 0, timestamp: NOON }), {
        ...options,
        maxEventTimeSkewMs: 1000,
      });
    expect(at(NOON + 1000).ok).toBe(true);
    expect(at(NOON + 1001)).toMatchObject({ ok: false, reason: "ts-too-far-ahead" });
  });
});
