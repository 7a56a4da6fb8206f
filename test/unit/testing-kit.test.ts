import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { KafkaMessage } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildTriggerEvent,
  localClusterArn,
  toTriggerRecord,
} from "../../functions/kafka-trigger-event-builder.ts";
import {
  DEFAULT_TIMESTAMP,
  FixtureError,
  fixtureEvent,
  headerText,
  kafkaEvent,
  keyText,
  kitFixtureNames,
  lambdaContext,
  MemoryRecordSink,
  recordsOf,
  valueText,
  withFlavour,
} from "../../functions/testing/index.ts";

const text = (base64: string | null | undefined) =>
  base64 === undefined || base64 === null ? base64 : Buffer.from(base64, "base64").toString();

describe("kafkaEvent: plain records in, the event Lambda's trigger delivers out", () => {
  it("is what the harness builds from the same consumed messages", () => {
    const message = {
      key: Buffer.from("Sensor1"),
      value: Buffer.from('{"ts":1,"value":2}'),
      headers: { uuid: "7c4a", unit: Buffer.from([0xc2, 0xb0]) },
      offset: "0",
      timestamp: String(DEFAULT_TIMESTAMP),
      attributes: 0,
    } as unknown as KafkaMessage;
    const harness = buildTriggerEvent(
      {
        flavour: "msk",
        bootstrapServers: ["localhost:19092"],
        clusterArn: localClusterArn(),
      },
      [toTriggerRecord("raw-temperature", 0, message)],
    );
    const kit = kafkaEvent(
      [
        {
          key: "Sensor1",
          value: { ts: 1, value: 2 },
          headers: { uuid: "7c4a", unit: Buffer.from([0xc2, 0xb0]) },
        },
      ],
      { topic: "raw-temperature" },
    );
    expect(kit).toEqual(harness);
  });

  it("encodes keys and values in base64, objects as their JSON text, strings as they are", () => {
    const [a, b] = recordsOf(
      kafkaEvent([
        { key: "Sensor1", value: { ts: 1714564800000, value: 21.5 } },
        { key: Buffer.from([1, 2]), value: JSON.stringify('{"ts":1,"value":2}') },
      ]),
    );
    expect(text(a?.key)).toBe("Sensor1");
    expect(text(a?.value)).toBe('{"ts":1714564800000,"value":21.5}');
    expect(Buffer.from(b?.key ?? "", "base64")).toEqual(Buffer.from([1, 2]));
    expect(text(b?.value)).toBe('"{\\"ts\\":1,\\"value\\":2}"'); // double-encoded, as the seed
  });

  it("omits a null or absent key and value, as real payloads do", () => {
    const [a, b] = recordsOf(kafkaEvent([{ key: null, value: null }, {}]));
    for (const r of [a, b]) {
      expect(r).not.toHaveProperty("key");
      expect(r).not.toHaveProperty("value");
    }
  });

  it("writes headers as one-entry objects of signed bytes, repeated names kept in order", () => {
    const [r] = recordsOf(kafkaEvent([{ headers: { unit: "°C", tag: ["a", "b"] } }]));
    expect(r?.headers).toEqual([{ unit: [-62, -80, 67] }, { tag: [97] }, { tag: [98] }]);
    expect(headerText(r as never, "unit")).toBe("°C");
  });

  it("numbers offsets per partition from firstOffset, groups by <topic>-<partition> in the order given", () => {
    const event = kafkaEvent(
      [{ partition: 2 }, { partition: 0 }, { partition: 2 }, { partition: 0, offset: 40 }, {}],
      { topic: "t", firstOffset: 7 },
    );
    expect(Object.keys(event.records)).toEqual(["t-2", "t-0"]);
    expect(event.records["t-2"]?.map((r) => r.offset)).toEqual([7, 8]);
    expect(event.records["t-0"]?.map((r) => r.offset)).toEqual([7, 40, 41]);
  });

  it("gives records a fixed timestamp, a second apart, unless they carry their own", () => {
    const records = recordsOf(
      kafkaEvent([
        {},
        {},
        { timestamp: new Date(5000) },
        { timestamp: 9, timestampType: "LOG_APPEND_TIME" },
      ]),
    );
    expect(records.map((r) => [r.timestamp, r.timestampType])).toEqual([
      [DEFAULT_TIMESTAMP, "CREATE_TIME"],
      [DEFAULT_TIMESTAMP + 1000, "CREATE_TIME"],
      [5000, "CREATE_TIME"],
      [9, "LOG_APPEND_TIME"],
    ]);
  });

  it.each([
    ["msk", { eventSource: "aws:kafka" }, true],
    ["self-managed", { eventSource: "SelfManagedKafka" }, false],
  ] as const)("in the %s flavour", (flavour, envelope, hasArn) => {
    const event = kafkaEvent([{ value: "x" }], {
      flavour,
      bootstrapServers: ["b1:9092", "b2:9092"],
    });
    expect(event).toMatchObject({ ...envelope, bootstrapServers: "b1:9092,b2:9092" });
    expect("eventSourceArn" in event).toBe(hasArn);
  });
});

describe("fixture events", () => {
  it.each(kitFixtureNames())("%s loads as a trigger event, in either flavour", (name) => {
    const event = fixtureEvent(name);
    expect(recordsOf(event).length).toBeGreaterThan(0);
    expect(fixtureEvent(name, { flavour: "self-managed" })).not.toHaveProperty("eventSourceArn");
    expect(fixtureEvent(name, { flavour: "msk" }).eventSource).toBe("aws:kafka");
  });

  it("covers what the kit promises: both AWS examples, double encoding, nulls, signed bytes, partitions", () => {
    expect(kitFixtureNames()).toEqual(
      expect.arrayContaining([
        "msk-documentation-event.json",
        "self-managed-documentation-event.json",
        "seed-double-encoded-event.json",
        "null-key-and-value-event.json",
        "signed-header-bytes-event.json",
        "multi-partition-event.json",
      ]),
    );
  });

  it("AWS's MSK and self-managed examples hold the same record in their own envelopes", () => {
    const msk = fixtureEvent("msk-documentation-event.json");
    const selfManaged = fixtureEvent("self-managed-documentation-event.json");
    expect(selfManaged.records).toEqual(msk.records);
    expect(withFlavour(msk, "self-managed")).toEqual(selfManaged);
    const [record] = recordsOf(msk);
    expect(valueText(record as never)).toBe("Hello, this is a test.");
    expect(headerText(record as never, "headerKey")).toBe("headerValue");
  });

  it("the seed's double-encoded values are JSON strings holding the reading", () => {
    const [record] = recordsOf(fixtureEvent("seed-double-encoded-event.json"));
    const once = JSON.parse(valueText(record as never) ?? "");
    expect(typeof once).toBe("string");
    expect(JSON.parse(once)).toEqual({ ts: "2024-05-01T12:00:00.500000", value: 40 });
  });

  it("null keys and values read as null", () => {
    const records = recordsOf(fixtureEvent("null-key-and-value-event.json"));
    expect(records.map((r) => [keyText(r), valueText(r) === null])).toEqual([
      [null, false],
      ["Sensor2", true],
      [null, false],
      ["Sensor2", true],
    ]);
  });

  it("signed header bytes read back as the UTF-8 text they were", () => {
    const [record] = recordsOf(fixtureEvent("signed-header-bytes-event.json"));
    expect(headerText(record as never, "unit")).toBe("café °C");
  });

  it("the multi-partition event holds three partitions, each in offset order", () => {
    const event = fixtureEvent("multi-partition-event.json");
    expect(Object.keys(event.records)).toEqual([
      "raw-temperature-0",
      "raw-temperature-1",
      "raw-temperature-2",
    ]);
    for (const records of Object.values(event.records)) {
      const offsets = records.map((r) => r.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });

  describe("a fixture file of your own", () => {
    const dir = mkdtempSync(join(tmpdir(), "kit-fixtures-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };

    it("may hold plain records, built as kafkaEvent builds them", () => {
      const path = file(
        "plain.json",
        JSON.stringify([{ key: "Sensor1", value: { ts: 1, value: 2 }, headers: { h: "v" } }]),
      );
      const options = { topic: "raw-temperature", flavour: "self-managed" } as const;
      expect(fixtureEvent(pathToFileURL(path), options)).toEqual(
        kafkaEvent([{ key: "Sensor1", value: { ts: 1, value: 2 }, headers: { h: "v" } }], options),
      );
    });

    it.each([
      ["not JSON", "{", /is not JSON/],
      ["no eventSource", JSON.stringify({ records: {} }), /eventSource must be one of/],
      [
        "an MSK event without its cluster",
        JSON.stringify({ eventSource: "aws:kafka", bootstrapServers: "b:9092", records: {} }),
        /needs eventSourceArn/,
      ],
      [
        "a record under another partition's group",
        JSON.stringify({
          eventSource: "SelfManagedKafka",
          bootstrapServers: "b:9092",
          records: {
            "t-0": [{ topic: "t", partition: 1, offset: 0, timestamp: 0, headers: [] }],
          },
        }),
        /is t-1, under the group "t-0"/,
      ],
    ])("is refused when it is %s, naming the file", (_, content, message) => {
      const path = file("bad.json", content);
      expect(() => fixtureEvent(path)).toThrow(FixtureError);
      expect(() => fixtureEvent(path)).toThrow(message);
      expect(() => fixtureEvent(path)).toThrow(path);
    });

    it("that is missing is refused with the kit's fixtures listed", () => {
      expect(() => fixtureEvent("no-such-event.json")).toThrow(/msk-documentation-event\.json/);
    });
  });
});

describe("MemoryRecordSink holds what a handler produced, per topic, in order", () => {
  it("records, keys, values, a header and the topics sent to", async () => {
    const sink = new MemoryRecordSink();
    await sink.send([
      { topic: "b", records: [{ key: "k1", value: '{"n":1}', headers: { id: "x" } }] },
      { topic: "a", records: [] },
    ]);
    await sink.send([{ topic: "b", records: [{ key: null, value: '{"n":2}' }] }]);
    expect(sink.topicNames()).toEqual(["b"]);
    expect(sink.keys("b")).toEqual(["k1", null]);
    expect(sink.values("b")).toEqual([{ n: 1 }, { n: 2 }]);
    expect(sink.header("b", "id")).toEqual(["x", undefined]);
    expect(sink.records("a")).toEqual([]);
  });
});

describe("lambdaContext", () => {
  it("is the harness's: a request id, the function's ARN, time counting down from the timeout", () => {
    const context = lambdaContext("alert-on-threshold", 30, 256);
    expect(context.invokedFunctionArn).toBe(
      "arn:aws:lambda:us-east-1:123456789012:function:alert-on-threshold",
    );
    expect(context.memoryLimitInMB).toBe("256");
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(30_000);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(29_000);
  });
});
