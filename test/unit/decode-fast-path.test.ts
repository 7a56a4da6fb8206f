import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64IntoScratch, scanReading } from "../../core/decode-fast-path.ts";
import {
  type DecodeOptions,
  decodeReading,
  decodeReadingReference,
} from "../../core/decode-reading.ts";
import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";

/**
 * `decodeReading` reads the common shapes from bytes and leaves everything else to
 * `decodeReadingReference` (JSON.parse). These properties hold it to exactly the reference's
 * result, on values built to sit on every edge of the fast path: the shapes it takes, and the
 * near misses it must hand over (escapes, duplicate keys, exponents, long mantissas, odd
 * whitespace, truncation, bytes that are not UTF-8, a BOM, double encoding).
 */

const NOON = Date.UTC(2024, 4, 1, 12, 0, 0);
const RUNS = 3_000;

// --- JSON text pieces -------------------------------------------------------------------------

const digitString = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789"), minLength, maxLength });

/** JSON whitespace at one place in a text. */
const jsonWhitespace = fc
  .array(fc.constantFrom(" ", "\t", "\n", "\r"), { maxLength: 3 })
  .map((parts) => parts.join(""));

/** Characters JSON does not take as whitespace, though other parsers might. */
const notJsonWhitespace = fc.constantFrom("\u00a0", "\f", "\b", "\v", "\u2028", "\ufeff", "\0");

/**
 * How a text is spaced, everywhere at once: compact (JSON.stringify), as Python's json.dumps
 * writes it, JSON whitespace anywhere, or with one character that is not JSON whitespace. Slots
 * are numbered as `objectText` fills them: 0 before `{`, then four per member (before its key,
 * after it, after the colon, after the value).
 */
const spacing: fc.Arbitrary<(slot: number) => string> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(() => "") },
  {
    weight: 3,
    arbitrary: fc.constant((slot: number) =>
      slot % 4 === 3 || (slot % 4 === 1 && slot > 1) ? " " : "",
    ),
  },
  {
    weight: 3,
    arbitrary: fc
      .array(jsonWhitespace, { minLength: 24, maxLength: 24 })
      .map((ws) => (slot: number) => ws[slot % 24] ?? ""),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.nat(12), notJsonWhitespace).map(
      ([at, odd]) =>
        (slot: number) =>
          slot === at ? odd : "",
    ),
  },
);

/** Whitespace around a whole text. */
const whitespace = fc.oneof(fc.constant(""), jsonWhitespace, notJsonWhitespace);

/** Number texts: valid JSON numbers of every form, near the fast path's limits, and near misses. */
const numberText = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -1_000, max: 1_000 }).map(String) },
  {
    weight: 2,
    arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "-0",
      "-0.0",
      "-0e5",
      "0e-400",
      "1e400",
      "-1e400",
      "01",
      "-",
      "1.",
      ".5",
      "+1",
      "1e",
      "1e+",
      "2.5e1",
    ),
  },
  {
    // Long mantissas and far exponents, where only correct rounding gives JSON.parse's double.
    weight: 2,
    arbitrary: fc
      .record({
        sign: fc.constantFrom("", "-"),
        digits: fc
          .tuple(fc.integer({ min: 1, max: 9 }), digitString(10, 19))
          .map(([d, rest]) => `${d}${rest}`),
        point: fc.nat(20),
        exponent: fc.integer({ min: -26, max: 26 }),
      })
      .map(({ sign, digits, point, exponent }) => {
        const at = Math.min(point, digits.length - 1) + 1;
        const fraction = digits.slice(at);
        return `${sign}${digits.slice(0, at)}${fraction === "" ? "" : `.${fraction}`}${exponent === 0 ? "" : `e${exponent}`}`;
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        sign: fc.constantFrom("", "", "-", "+"),
        int: digitString(0, 18),
        fraction: fc.option(digitString(0, 12)),
        exponent: fc.option(
          fc.record({
            e: fc.constantFrom("e", "E"),
            sign: fc.constantFrom("", "+", "-"),
            digits: fc.oneof(
              digitString(0, 6),
              fc.integer({ min: 0, max: 30 }).map(String),
              fc.integer({ min: 0, max: 30 }).map((n) => `000${n}`),
            ),
          }),
        ),
      })
      .map(
        ({ sign, int, fraction, exponent }) =>
          `${sign}${int}${fraction === null ? "" : `.${fraction}`}${
            exponent === null ? "" : `${exponent.e}${exponent.sign}${exponent.digits}`
          }`,
      ),
  },
);

/** `ts` as epoch-ms numbers: realistic ones, and ones at the edges of what a Date holds. */
const epochText = fc.oneof(
  fc.integer({ min: 0, max: 4e12 }).map(String),
  fc.constantFrom(
    "1714564800000",
    "1714564800000.9",
    "-1",
    "-0.5",
    "-0",
    "8.64e15",
    "8640000000000000",
    "8.6400000000001e15",
    "8.64000000000001e15",
    "1.7145648e12",
  ),
);

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** ISO-8601-ish times: the seed's form, every part at and past its range, other forms. */
const isoText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .date({ noInvalidDate: true, min: new Date(Date.UTC(1969, 11, 31)), max: new Date(2e12) })
      .chain((d) =>
        fc.constantFrom(
          d.toISOString().replace("Z", "000"), // the seed: Python's isoformat(), microseconds
          d.toISOString(),
          d.toISOString().replace("Z", "z"),
          d.toISOString().slice(0, 19),
          d.toISOString().slice(0, 20),
          d.toISOString().slice(0, 21),
          d.toISOString().slice(0, 16),
          d.toISOString().replace("Z", "+02:00"),
          d.toISOString().replace("T", " "),
        ),
      ),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        year: fc.oneof(fc.integer({ min: 1999, max: 2030 }), fc.integer({ min: 0, max: 9999 })),
        month: fc.integer({ min: 0, max: 13 }),
        day: fc.oneof(fc.integer({ min: 28, max: 32 }), fc.integer({ min: 0, max: 32 })),
        hour: fc.integer({ min: 0, max: 24 }),
        minute: fc.integer({ min: 0, max: 60 }),
        second: fc.integer({ min: 0, max: 60 }),
        fraction: fc.option(digitString(0, 9)),
      })
      .map(
        (t) =>
          `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(
            t.minute,
            2,
          )}:${pad(t.second, 2)}${t.fraction === null ? "" : `.${t.fraction}`}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .date({ noInvalidDate: true, min: new Date(-1e14), max: new Date(8.64e15) })
      .map((d) => d.toISOString()),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

/** `ts` as producers write it: the seed's naive time with microseconds, or epoch ms. */
const usualTs = fc.oneof(
  fc
    .date({ noInvalidDate: true, min: new Date(0), max: new Date(2e12) })
    .map((d) => JSON.stringify(d.toISOString().replace("Z", "000"))),
  fc.integer({ min: 0, max: 2e12 }).map(String),
);

/** A `ts` member's value. */
const tsValue = fc.oneof(
  { weight: 16, arbitrary: usualTs },
  { weight: 8, arbitrary: isoText.map((s) => JSON.stringify(s)) },
  { weight: 3, arbitrary: epochText },
  { weight: 1, arbitrary: numberText },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "null",
      "true",
      "{}",
      '{"ts":"2024-05-01T12:00:00"}',
      "[1714564800000]",
      '"\\u0032024-05-01T12:00:00"',
      '"2024-05-01T12:00:00\\/"',
      '"2024-05-01T12:00:00\u00e9"',
    ),
  },
  { weight: 1, arbitrary: fc.string().map((s) => JSON.stringify(s)) },
);

/** A `value` member's value. */
const valueValue = fc.oneof(
  {
    weight: 24,
    arbitrary: fc.oneof(
      fc.integer({ min: 0, max: 100 }).map(String),
      fc.integer({ min: -5_000, max: 15_000 }).map((n) => JSON.stringify(n / 100)),
    ),
  },
  { weight: 8, arbitrary: numberText },
  {
    weight: 1,
    arbitrary: fc.constantFrom("null", "true", "false", '"21"', "[21]", '{"value":21}', "21 22"),
  },
  { weight: 1, arbitrary: fc.string().map((s) => JSON.stringify(s)) },
);

/** Other members: unknown fields, and keys that JSON.parse reads as `ts` or `value` but bytes don't. */
const otherMember = fc.tuple(
  fc.constantFrom('"uuid"', '"Ts"', '"t\\u0073"', '"valu\\u0065"', '"value "', '""', '"ts\\""'),
  fc.oneof(numberText, tsValue, fc.constant('{"nested":{"ts":1,"value":[1,2]}}')),
);

type Member = [key: string, value: string];

/** `{"ts", "value"}` in either order: what the fast path must take whenever the parts are good. */
const commonMembers: fc.Arbitrary<Member[]> = fc
  .tuple(tsValue, valueValue, fc.boolean())
  .map(([ts, value, tsFirst]) =>
    tsFirst
      ? [
          ['"ts"', ts],
          ['"value"', value],
        ]
      : [
          ['"value"', value],
          ['"ts"', ts],
        ],
  );

/** Any mix of members: missing, duplicated, extra. */
const anyMembers: fc.Arbitrary<Member[]> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: tsValue.map((v): Member => ['"ts"', v]) },
    { weight: 3, arbitrary: valueValue.map((v): Member => ['"value"', v]) },
    { weight: 1, arbitrary: otherMember },
  ),
  { maxLength: 4 },
);

/** `{"ts", "value"}` with one of them twice: JSON.parse keeps the last. */
const duplicateMembers: fc.Arbitrary<Member[]> = fc
  .tuple(commonMembers, fc.boolean(), tsValue, valueValue, fc.nat(2))
  .map(([members, ts, tsAgain, valueAgain, at]) => {
    const copy = [...members];
    copy.splice(at, 0, ts ? ['"ts"', tsAgain] : ['"value"', valueAgain]);
    return copy;
  });

/** An object's text, spaced in one of the ways `spacing` makes. */
const objectText = fc
  .tuple(
    fc.oneof(
      { weight: 6, arbitrary: commonMembers },
      { weight: 1, arbitrary: duplicateMembers },
      { weight: 1, arbitrary: anyMembers },
    ),
    spacing,
  )
  .map(([members, ws]) => {
    let slot = 0;
    const next = () => ws(slot++);
    const body = members.map(([k, v]) => `${next()}${k}${next()}:${next()}${v}${next()}`);
    return `${next()}{${body.join(",")}${members.length === 0 ? next() : ""}}${next()}`;
  });

/** Escapes every character of `s` as `\uXXXX` where `pick` says so, and `/` as `\/`. */
const escapeSome = (s: string, pick: readonly boolean[]) =>
  JSON.stringify(s)
    .slice(1, -1)
    .replace(/[^\\]|\\./g, (c, at: number) =>
      c === "/"
        ? "\\/"
        : pick[at % pick.length] && c.length === 1
          ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
          : c,
    );

/** The value's text: plain, double-encoded as the seed does (or with other escapes), or more. */
const valueText = fc.oneof(
  { weight: 4, arbitrary: objectText },
  { weight: 3, arbitrary: objectText.map((t) => JSON.stringify(t)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(objectText, fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }), whitespace)
      .map(([t, pick, ws]) => `${ws}"${escapeSome(t, pick)}"${ws}`),
  },
  { weight: 1, arbitrary: objectText.map((t) => JSON.stringify(JSON.stringify(t))) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(objectText, fc.integer({ min: 0, max: 6_000 }))
      .map(([t, n]) => `${" ".repeat(n)}${t}`), // long values: base64 beyond Buffer.from's pool
  },
);

/** Bytes as they may arrive: the text as UTF-8, or damaged (truncated, a BOM, not UTF-8). */
const valueBytes = fc
  .tuple(
    valueText,
    fc.oneof(
      { weight: 12, arbitrary: fc.constant({ kind: "none" as const }) },
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant("append" as const),
        text: fc.constantFrom("x", '"', "}", ",", "\\", "0", "\u00e9"),
      }),
      fc.record({ kind: fc.constant("bom" as const) }),
      fc.record({
        kind: fc.constant("byte" as const),
        at: fc.nat(),
        byte: fc.oneof(fc.integer({ min: 0x80, max: 0xff }), fc.integer({ min: 0, max: 0x7f })),
      }),
    ),
  )
  .map(([text, damage]) => {
    const bytes = Buffer.from(text, "utf8");
    switch (damage.kind) {
      case "truncate":
        return bytes.subarray(0, damage.at % (bytes.length + 1));
      case "append":
        return Buffer.concat([bytes, Buffer.from(damage.text)]);
      case "bom":
        return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
      case "byte": {
        if (bytes.length === 0) return bytes;
        const copy = Buffer.from(bytes);
        copy[damage.at % copy.length] = damage.byte;
        return copy;
      }
      default:
        return bytes;
    }
  });

/** The base64 text Lambda delivers, and a few it should not (no padding, line breaks, junk). */
const base64Of = (bytes: fc.Arbitrary<Buffer>) =>
  fc
    .tuple(bytes, fc.constantFrom(...Array(9).fill("plain"), "unpadded", "wrapped", "junk"))
    .map(([b, form]) => {
      const text = b.toString("base64");
      if (form === "unpadded") return text.replace(/=+$/, "");
      if (form === "wrapped") return text.replace(/(.{60})/g, "$1\n");
      if (form === "junk") return `${text.slice(0, 8)}=*${text.slice(8)}`;
      return text;
    });

const sensorKey = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 20 }).map((n) => `Sensor${n}`) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\t\n", "\u00a0", "température-1") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
);

const keyText = fc.oneof(
  { weight: 16, arbitrary: base64Of(sensorKey.map((k) => Buffer.from(k, "utf8"))) },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, "", "====", "*") },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

const decodeOptions: fc.Arbitrary<DecodeOptions> = fc.record({
  timestampSource: fc.constantFrom("payload", "payload", "payload", "kafka"),
  maxEventTimeSkewMs: fc.constantFrom(
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
    86_400_000,
    1_000,
    0,
  ),
});

/** The record's Kafka timestamp: mostly late enough that no event time is too far ahead of it. */
const kafkaTimestamp = fc.oneof(
  { weight: 4, arbitrary: fc.constant(8.64e15) },
  { weight: 1, arbitrary: fc.constant(NOON) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4e12 }) },
);

const recordWith = (key: string | null | undefined, value: string | null | undefined, ts: number) =>
  ({
    topic: "raw-temperature",
    partition: 0,
    offset: 7,
    timestamp: ts,
    timestampType: "CREATE_TIME",
    key,
    value,
    headers: [],
  }) as KafkaTriggerRecord;

const base64 = (text: string) => Buffer.from(text).toString("base64");

const PAYLOAD_TS: DecodeOptions = { timestampSource: "payload", maxEventTimeSkewMs: 86_400_000 };

/** How many of the records compared so far the fast path read itself. */
let readByFastPath = 0;

/** Whether the fast path reads `record` itself (not handing it to the reference). */
const takenByFastPath = (record: KafkaTriggerRecord, options: DecodeOptions): boolean => {
  const length = typeof record.value === "string" ? base64IntoScratch(record.value) : -1;
  return (
    length >= 0 &&
    scanReading(
      length,
      options.timestampSource === "payload",
      record.timestamp,
      options.maxEventTimeSkewMs,
    ) !== undefined
  );
};

/** Both decoders on one record, each with its own key cache: same result, same cache. */
const expectSameAsReference = (record: KafkaTriggerRecord, options: DecodeOptions) => {
  const fastKeys = new Map<string, string>();
  const referenceKeys = new Map<string, string>();
  const fast = decodeReading(record, options, fastKeys);
  const reference = decodeReadingReference(record, options, referenceKeys);
  // toStrictEqual tells -0 from 0, and an absent field from an undefined one.
  expect(fast).toStrictEqual(reference);
  if (fast.ok) expect(fast.reading.source).toBe(record);
  expect(fastKeys).toStrictEqual(referenceKeys);
  // And without a cache.
  expect(decodeReading(record, options)).toStrictEqual(reference);
  if (takenByFastPath(record, options)) readByFastPath++;
};

describe("decodeReading's fast path", () => {
  it("gives exactly the reference decoder's result on generated and damaged values", () => {
    readByFastPath = 0;
    fc.assert(
      fc.property(
        keyText,
        base64Of(valueBytes),
        decodeOptions,
        kafkaTimestamp,
        (key, value, options, timestamp) => {
          expectSameAsReference(recordWith(key, value, timestamp), options);
        },
      ),
      { numRuns: RUNS },
    );
    // The properties are only as good as the share of records that exercise the fast path.
    expect(readByFastPath).toBeGreaterThan(RUNS / 6);
  });

  it("reads every number as JSON.parse does", () => {
    fc.assert(
      fc.property(numberText, fc.boolean(), (number, asTs) => {
        const text = asTs
          ? `{"ts":${number},"value":21}`
          : `{"ts":"2024-05-01T12:00:00.123456","value":${number}}`;
        expectSameAsReference(recordWith("U2Vuc29yMQ==", base64(text), 8.64e15), PAYLOAD_TS);
      }),
      { numRuns: RUNS },
    );
  });

  it("reads every ts as parseEventTime does", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          isoText.map((t) => JSON.stringify(t)),
          epochText,
        ),
        (ts) => {
          const text = `{"ts":${ts},"value":21}`;
          expectSameAsReference(recordWith("U2Vuc29yMQ==", base64(text), 8.64e15), PAYLOAD_TS);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("gives exactly the reference decoder's result on arbitrary base64 and arbitrary text", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.base64String(), fc.string({ unit: "binary" })),
        fc.oneof(
          fc.base64String({ maxLength: 200 }),
          fc.string({ unit: "binary", maxLength: 200 }),
          fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b).toString("base64")),
        ),
        decodeOptions,
        kafkaTimestamp,
        (key, value, options, timestamp) => {
          expectSameAsReference(recordWith(key, value, timestamp), options);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("never throws, whatever the key and value", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.base64String(), fc.string({ unit: "binary" }), fc.constant(null)),
        fc.oneof(
          fc.base64String({ maxLength: 300 }),
          fc.string({ unit: "binary", maxLength: 300 }),
          base64Of(valueBytes),
          fc.constant(null),
        ),
        decodeOptions,
        kafkaTimestamp,
        (key, value, options, timestamp) => {
          const record = recordWith(key, value, timestamp);
          expect(() => decodeReading(record, options, new Map())).not.toThrow();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("reads the shapes producers write itself, without JSON.parse", () => {
    const scans = (text: string) => {
      const length = base64IntoScratch(Buffer.from(text).toString("base64"));
      return scanReading(length, true, NOON, 86_400_000);
    };
    const seed = '{"ts": "2024-05-01T12:00:00.123456", "value": 21}'; // Python's json.dumps
    expect(scans(seed)).toStrictEqual({ eventTime: NOON + 123, value: 21 });
    expect(scans(JSON.stringify(seed))).toStrictEqual({ eventTime: NOON + 123, value: 21 });
    expect(scans('{"value":-0.5,"ts":1714564800000}')).toStrictEqual({
      eventTime: NOON,
      value: -0.5,
    });
    expect(scans('{"ts":"2024-05-01T12:00:00Z","value":2.5e1}')).toStrictEqual({
      eventTime: NOON,
      value: 25,
    });
    // Left to the reference: a duplicate key, an escape, an extra field.
    expect(scans('{"ts":1714564800000,"ts":1714564800000,"value":1}')).toBeUndefined();
    expect(scans('{"ts":"2024-05-01T12:00:0\\u0030","value":1}')).toBeUndefined();
    expect(scans('{"ts":1714564800000,"value":1,"unit":"C"}')).toBeUndefined();
  });

  it("does not read a previous, longer value's bytes past the end of a shorter one", () => {
    const options: DecodeOptions = { timestampSource: "payload", maxEventTimeSkewMs: 86_400_000 };
    const plain = '{"ts":"2024-05-01T12:00:00.123456","value":21}';
    const pairs = [
      [plain, plain.slice(0, -1)], // the longer one's `}` is still in the buffer
      [JSON.stringify(plain), `"${JSON.stringify(plain).slice(1, -3)}"`],
    ];
    for (const [long, short] of pairs) {
      const record = (text: string) =>
        recordWith("U2Vuc29yMQ==", Buffer.from(text).toString("base64"), NOON);
      expect(decodeReading(record(long as string), options).ok).toBe(true);
      expect(decodeReading(record(short as string), options)).toMatchObject({
        ok: false,
        reason: "not-json",
      });
    }
  });

  it("leaves values too large for its buffers to the reference", () => {
    const text = `${" ".repeat(100_000)}{"ts":"2024-05-01T12:00:00","value":21}`;
    const record = recordWith("U2Vuc29yMQ==", Buffer.from(text).toString("base64"), NOON);
    expectSameAsReference(record, { timestampSource: "payload", maxEventTimeSkewMs: 86_400_000 });
    expect(
      decodeReading(record, { timestampSource: "payload", maxEventTimeSkewMs: 0 }),
    ).toMatchObject({
      ok: true,
      reading: { eventTime: NOON, value: 21 },
    });
  });
});
