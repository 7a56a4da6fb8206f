import { describe, expect, it } from "vitest";
import { readSettings } from "../function-declaration.ts";
import {
  fixtureEvent,
  kafkaEvent,
  MemoryRecordSink,
  type RecordSink,
  silentLogger,
} from "../testing/index.ts";
import { createAlertHandler } from "./alert-handler.ts";
import { declaration } from "./function.ts";

/*
 * alert-on-threshold's unit tests: build the event (the testing kit, as the harness builds it),
 * invoke the handler with an in-memory sink, assert the alerts it produced.
 */

const TOPIC = "alerts";
const alertsOver = (threshold: number, sink: RecordSink = new MemoryRecordSink()) =>
  createAlertHandler({ threshold, topic: TOPIC, sink, logger: silentLogger });
const reading = (sensor: string, value: number, ts = 1_714_564_800_000) => ({
  key: sensor,
  value: { ts, value },
  timestamp: ts,
});

describe("alert-on-threshold", () => {
  it("alerts on each reading above the threshold, keyed by sensor, in order", async () => {
    const sink = new MemoryRecordSink();
    const summary = await alertsOver(
      30,
      sink,
    )(
      kafkaEvent([reading("Sensor1", 31.5), reading("Sensor2", 12), reading("Sensor3", 40)], {
        topic: "raw-temperature",
      }),
    );
    expect(sink.keys(TOPIC)).toEqual(["Sensor1", "Sensor3"]);
    expect(sink.values(TOPIC)).toEqual([
      {
        sensor: "Sensor1",
        time: 1_714_564_800_000,
        value: 31.5,
        threshold: 30,
        source: { topic: "raw-temperature", partition: 0, offset: 0 },
      },
      expect.objectContaining({ sensor: "Sensor3", value: 40 }),
    ]);
    expect(summary).toEqual({ records: 3, alerts: 2, skipped: 0 });
  });

  it("does not alert on a reading at the threshold, only above it", async () => {
    const sink = new MemoryRecordSink();
    await alertsOver(30, sink)(kafkaEvent([reading("Sensor1", 30), reading("Sensor1", 30.01)]));
    expect(sink.values<{ value: number }>(TOPIC).map((a) => a.value)).toEqual([30.01]);
  });

  it("marks each alert with its source record, for a consumer to drop what a retry repeats", async () => {
    const sink = new MemoryRecordSink();
    const event = kafkaEvent([reading("Sensor1", 50)], {
      topic: "raw-temperature",
      partition: 2,
      firstOffset: 41,
    });
    await alertsOver(30, sink)(event);
    await alertsOver(30, sink)(event); // the trigger's retry of the same batch
    expect(sink.header(TOPIC, "source-record")).toEqual([
      "raw-temperature-2@41",
      "raw-temperature-2@41",
    ]);
  });

  it("reads the seed producer's double-encoded values and naive ISO timestamps", async () => {
    const sink = new MemoryRecordSink();
    await alertsOver(45, sink)(fixtureEvent("seed-double-encoded-event.json"));
    expect(sink.values(TOPIC)).toMatchObject([
      { sensor: "Sensor4", value: 48, time: Date.UTC(2024, 4, 1, 12, 0, 12, 250) },
    ]);
  });

  it("reads every partition of an event", async () => {
    const sink = new MemoryRecordSink();
    await alertsOver(30, sink)(fixtureEvent("multi-partition-event.json"));
    expect(sink.header(TOPIC, "source-record")).toEqual([
      "raw-temperature-1@87",
      "raw-temperature-1@88",
    ]);
  });

  it.each(["msk", "self-managed"] as const)("works the same with a %s event", async (flavour) => {
    const sink = new MemoryRecordSink();
    await alertsOver(21, sink)(fixtureEvent("self-managed-readings-event.json", { flavour }));
    expect(sink.values<{ value: number }>(TOPIC).map((a) => a.value)).toEqual([22, 25]);
  });

  it("skips what is not a reading and goes on: no key, no value, not JSON", async () => {
    const sink = new MemoryRecordSink();
    const handle = alertsOver(0, sink);
    expect(await handle(fixtureEvent("null-key-and-value-event.json"))).toEqual({
      records: 4,
      alerts: 0,
      skipped: 4,
    });
    expect(await handle(fixtureEvent("msk-documentation-event.json"))).toMatchObject({
      skipped: 1,
    });
    expect(
      await handle(kafkaEvent([{ key: "Sensor1", value: "21.5" }, reading("Sensor1", 1)])),
    ).toEqual({ records: 2, alerts: 1, skipped: 1 });
  });

  it("produces nothing for a batch without alerts", async () => {
    const sink = new MemoryRecordSink();
    await alertsOver(100, sink)(kafkaEvent([reading("Sensor1", 20)]));
    expect(sink.topicNames()).toEqual([]);
  });

  it("fails the invocation when its alerts can't be produced, so the trigger retries the batch", async () => {
    const broken: RecordSink = {
      send: async () => {
        throw new Error("broker away");
      },
    };
    await expect(alertsOver(0, broken)(kafkaEvent([reading("Sensor1", 5)]))).rejects.toThrow(
      "broker away",
    );
  });
});

describe("alert-on-threshold's declaration", () => {
  it("reads raw-temperature and writes only its alert topic", () => {
    expect(declaration.trigger.topic).toBe("raw-temperature");
    expect(declaration.outputTopics).toEqual(["alertTopic"]);
  });

  it("takes its threshold and topic from the environment, with defaults", () => {
    expect(readSettings(declaration.settings, {})).toEqual({ alertTopic: "alerts", threshold: 30 });
    expect(
      readSettings(declaration.settings, { ALERT_THRESHOLD: "27.5", ALERT_TOPIC: "hot" }),
    ).toEqual({ alertTopic: "hot", threshold: 27.5 });
    expect(() => readSettings(declaration.settings, { ALERT_THRESHOLD: "hot" })).toThrow(
      'ALERT_THRESHOLD must be a number, got "hot"',
    );
  });
});
