import { randomUUID } from "node:crypto";
import fc from "fast-check";
import type { KafkaMessage } from "kafkajs";
import { describe, expect, it } from "vitest";
import {
  buildTriggerEvent,
  localClusterArn,
  signedBytes,
  toPolledRecord,
  toTriggerRecord,
} from "../../functions/kafka-trigger-event-builder.ts";
import { packEvent, transferablesOf, unpackEvent } from "../../harness/emulator/packed-event.ts";

/** A consumed message as kafkajs hands it over. */
const message = (overrides: Partial<KafkaMessage> = {}): KafkaMessage =>
  ({
    offset: "41",
    timestamp: "1700000000000",
    key: Buffer.from("sensor-1"),
    value: Buffer.from('{"ts":1700000000000,"value":21.5}'),
    headers: {},
    attributes: 0,
    ...overrides,
  }) as KafkaMessage;

describe("toTriggerRecord", () => {
  it("encodes key and value in base64 and copies the coordinates", () => {
    const record = toTriggerRecord("raw-temperature", 3, message());
    expect(record).toEqual({
      topic: "raw-temperature",
      partition: 3,
      offset: 41,
      timestamp: 1700000000000,
      timestampType: "CREATE_TIME",
      headers: [],
      key: Buffer.from("sensor-1").toString("base64"),
      value: Buffer.from('{"ts":1700000000000,"value":21.5}').toString("base64"),
    });
  });

  it("omits a null key and a null value, as real payloads do", () => {
    const record = toTriggerRecord("t", 0, message({ key: null, value: null }));
    expect(record).not.toHaveProperty("key");
    expect(record).not.toHaveProperty("value");
  });

  it("turns headers into one-entry objects of signed bytes, repeated names kept", () => {
    const record = toTriggerRecord(
      "t",
      0,
      message({ headers: { a: Buffer.from([0, 127, 128, 255]), b: ["x", "y"] } }),
    );
    expect(record.headers).toEqual([{ a: [0, 127, -128, -1] }, { b: [120] }, { b: [121] }]);
  });
});

describe("signedBytes", () => {
  it.each([
    [[0x00], [0]],
    [[0x7f], [127]],
    [[0x80], [-128]],
    [[0xff], [-1]],
  ])("%j becomes %j", (bytes, expected) => {
    expect(signedBytes(Buffer.from(bytes))).toEqual(expected);
  });
});

describe("buildTriggerEvent", () => {
  const records = [
    toTriggerRecord("raw", 0, message({ offset: "1" })),
    toTriggerRecord("raw", 1, message({ offset: "7" })),
    toTriggerRecord("raw", 0, message({ offset: "2" })),
  ];

  it("groups records by <topic>-<partition> in offset order, with an ARN for MSK", () => {
    const event = buildTriggerEvent(
      { flavour: "msk", bootstrapServers: ["b1:9092", "b2:9092"], clusterArn: localClusterArn() },
      records,
    );
    expect(event.eventSource).toBe("aws:kafka");
    expect(event).toHaveProperty("eventSourceArn", localClusterArn());
    expect(event.bootstrapServers).toBe("b1:9092,b2:9092");
    expect(Object.keys(event.records)).toEqual(["raw-0", "raw-1"]);
    expect(event.records["raw-0"]?.map((r) => r.offset)).toEqual([1, 2]);
  });

  it("has no eventSourceArn for self-managed Kafka", () => {
    const event = buildTriggerEvent(
      { flavour: "self-managed", bootstrapServers: ["b1:9092"], clusterArn: localClusterArn() },
      records,
    );
    expect(event.eventSource).toBe("SelfManagedKafka");
    expect(event).not.toHaveProperty("eventSourceArn");
  });
});

describe("a polled record's bytes in the event: exactly what JSON.stringify would write", () => {
  const cases: [string, number, KafkaMessage][] = [
    ["a plain record", 5, message()],
    ["no key", 5, message({ key: null })],
    ["no key, no value", 0, message({ key: null, value: null })],
    ["a big offset and partition", 123, message({ offset: "9007199254740991" })],
    ["no timestamp (-1), offset 0", 10, message({ timestamp: "-1", offset: "0" })],
    [
      "headers with odd names",
      0,
      message({ headers: { 'quote"d': Buffer.from([200, 1]), "é-ü": Buffer.from("v") } }),
    ],
    ["a seed-like uuid header", 0, message({ headers: { uuid: randomUUID() } })],
    [
      "headers of every byte and an empty one",
      0,
      message({ headers: { all: Buffer.from(Array.from({ length: 256 }, (_, i) => i)), e: "" } }),
    ],
    ["an empty value", 0, message({ value: Buffer.alloc(0) })],
  ];

  describe.each(cases)("%s", (_, partition, m) => {
    it.each(["CREATE_TIME", "LOG_APPEND_TIME"] as const)("with %s", (type) => {
      const record = toTriggerRecord("raw-temperature", partition, m, type);
      expect(toPolledRecord("raw-temperature", partition, m, type).bytes).toBe(
        Buffer.byteLength(JSON.stringify(record)),
      );
    });
  });
});

describe("the event on its way to the sandbox, packed", () => {
  const messages: [number, KafkaMessage][] = [
    [0, message({ offset: "1", headers: { uuid: Buffer.from([0, 1, 127, 128, 255]) } })],
    [0, message({ offset: "2", value: null, headers: { "été ✓": "x" } })],
    [1, message({ offset: "7", key: null, headers: { n: [Buffer.from("a"), Buffer.from("b")] } })],
    [0, message({ offset: "3", key: Buffer.alloc(0), value: Buffer.alloc(0) })],
  ];

  it.each(messages)(
    "counts partition %s's record's bytes in the event without writing it",
    (p, m) => {
      const polled = toPolledRecord("raw", p, m, "LOG_APPEND_TIME");
      const expected = JSON.stringify(toTriggerRecord("raw", p, m, "LOG_APPEND_TIME"));
      expect(polled.bytes).toBe(Buffer.byteLength(expected));
      expect([polled.partition, polled.offset, polled.timestamp]).toEqual([
        p,
        Number(m.offset),
        1700000000000,
      ]);
    },
  );

  it.each([
    ["msk", "b1:9092,b2:9092"],
    ["self-managed", "b1:9092"],
  ] as const)(
    "unpacks to the %s event buildTriggerEvent makes, as its JSON parses",
    (flavour, servers) => {
      const source = {
        flavour,
        bootstrapServers: servers.split(","),
        clusterArn: localClusterArn(),
      };
      const packed = packEvent(
        source,
        messages.map(([p, m]) => toPolledRecord("raw", p, m, "LOG_APPEND_TIME")),
      );
      const event = buildTriggerEvent(
        source,
        messages.map(([p, m]) => toTriggerRecord("raw", p, m, "LOG_APPEND_TIME")),
      );
      const unpacked = unpackEvent(structuredClone(packed, { transfer: transferablesOf(packed) }));
      expect(JSON.stringify(unpacked)).toBe(JSON.stringify(event));
      expect(unpacked).toEqual(JSON.parse(JSON.stringify(event)));
    },
  );
});

describe("packing, for any messages", () => {
  const bytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
  const headerValue = fc.oneof(bytes, fc.array(bytes, { minLength: 1, maxLength: 3 }));
  const kafkaMessage = fc.record({
    offset: fc.nat({ max: 2 ** 40 }).map(String),
    timestamp: fc.nat({ max: 2 ** 42 }).map(String),
    key: fc.option(bytes),
    value: fc.option(bytes),
    headers: fc.dictionary(fc.string({ maxLength: 8 }), headerValue, { maxKeys: 3 }),
  });
  const batch = fc.array(fc.tuple(fc.nat({ max: 5 }), kafkaMessage), { maxLength: 30 });

  it("unpacks to exactly the event its JSON would parse to, and counts its bytes", () => {
    fc.assert(
      fc.property(batch, (messages) => {
        const source = { flavour: "msk" as const, bootstrapServers: ["b:9092"], clusterArn: "arn" };
        const sorted = [...messages].sort(([a], [b]) => a - b);
        const polled = sorted.map(([p, m]) => toPolledRecord("raw", p, m as KafkaMessage));
        const records = sorted.map(([p, m]) => toTriggerRecord("raw", p, m as KafkaMessage));
        const json = JSON.stringify(buildTriggerEvent(source, records));
        const packed = packEvent(source, polled);
        const unpacked = unpackEvent(
          structuredClone(packed, { transfer: transferablesOf(packed) }),
        );
        expect(JSON.stringify(unpacked)).toBe(json);
        expect(polled.map((r) => r.bytes)).toEqual(
          records.map((r) => Buffer.byteLength(JSON.stringify(r))),
        );
      }),
      { numRuns: 300 },
    );
  });
});
