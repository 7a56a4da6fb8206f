import { describe, expect, it } from "vitest";
import type { SensorSummary, WindowPoint } from "../../dashboard/protocol.ts";
import { byName, rankSensors } from "../../dashboard/ranking.ts";
import { readDeadLetter, readLate, readWindow } from "../../dashboard/records.ts";
import { ActivityCounter, deviation, WindowStore } from "../../dashboard/window-store.ts";
import { deadLetterMessage, lateMessage, windowMessage } from "../support/dashboard-fixtures.ts";

const w = (sensor: string, start: number, mean: number, closedBy = "stream-time"): WindowPoint => ({
  sensor,
  start,
  end: start + 10_000,
  count: 3,
  min: mean - 1,
  max: mean + 1,
  mean,
  closedBy,
});
const buffer = (value: unknown) => Buffer.from(String(value));

describe("reading the output topics' records", () => {
  it("reads a window exactly as aggregate-temperatures writes it", () => {
    const window = w("Sensor1", 1_000_000, 42.5, "idle");
    expect(readWindow(buffer(windowMessage(window).value))).toEqual(window);
  });

  it("reads a window without closedBy as closed by stream time", () => {
    const value = {
      sensor: "S",
      start: 0,
      end: 10,
      temperature: { count: 1, min: 1, max: 1, mean: 1 },
    };
    expect(readWindow(buffer(JSON.stringify(value)))?.closedBy).toBe("stream-time");
  });

  it("returns null, never throws, for records it cannot read", () => {
    for (const raw of ["not json", "[]", "null", '{"sensor":"S","start":0,"end":10}', ""]) {
      expect(readWindow(buffer(raw))).toBeNull();
    }
    expect(readWindow(null)).toBeNull();
    expect(readLate(buffer("{}"), 0)).toBeNull();
    expect(readDeadLetter(buffer("{oops"), undefined, 0)).toBeNull();
  });

  it("reads a late reading and a dead letter as the function writes them", () => {
    expect(readLate(buffer(lateMessage("Sensor2", 50_000, 1_500).value), 7)).toEqual({
      sensor: "Sensor2",
      eventTime: 54_000,
      windowStart: 50_000,
      windowEnd: 60_000,
      lateByMs: 1_500,
      at: 7,
    });
    expect(
      readDeadLetter(buffer(deadLetterMessage("bad-ts", "no", 3).value), undefined, 9),
    ).toEqual({
      reason: "bad-ts",
      detail: "no",
      source: { topic: "raw-temperature", partition: 1, offset: 3 },
      at: 9,
    });
  });

  it("takes a dead letter's reason from its header when the value is unreadable", () => {
    expect(readDeadLetter(buffer("{oops"), "not-json", 1)).toEqual({
      reason: "not-json",
      detail: "",
      source: null,
      at: 1,
    });
  });
});

describe("the windows held", () => {
  it("keeps each sensor's last N windows in start order, however they arrive", () => {
    const store = new WindowStore(3);
    for (const start of [30, 10, 40, 20, 0]) store.add(w("S", start * 1000, start));
    expect(store.windows("S").map((x) => x.start)).toEqual([20_000, 30_000, 40_000]);
    expect(store.held).toBe(3);
  });

  it("replaces a repeated window (same sensor and start) instead of counting it twice", () => {
    const store = new WindowStore(10);
    store.add(w("S", 0, 1));
    const summary = store.add(w("S", 0, 1));
    expect(store.held).toBe(1);
    expect(summary.held).toBe(1);
  });

  it("summarises a sensor by its latest window", () => {
    const store = new WindowStore(10);
    store.add(w("S", 20_000, 5));
    const summary = store.add(w("S", 10_000, 9));
    expect(summary.last.start).toBe(20_000);
    expect(store.summaries().map((s) => s.sensor)).toEqual(["S"]);
  });
});

describe("deviation", () => {
  it("is unknown until three earlier windows", () => {
    expect(deviation([w("S", 0, 1), w("S", 1, 2), w("S", 2, 3)])).toBeNull();
  });

  it("is the last mean's distance from the earlier means, in their standard deviations", () => {
    // earlier means 4, 6, 4, 6: mean 5, standard deviation 1; last 8 is 3 away.
    const ws = [4, 6, 4, 6, 8].map((m, i) => w("S", i, m));
    expect(deviation(ws)).toBeCloseTo(3);
  });

  it("is large, not infinite, when a steady sensor moves, and 0 when it does not", () => {
    expect(deviation([5, 5, 5, 9].map((m, i) => w("S", i, m)))).toBe(1e9);
    expect(deviation([5, 5, 5, 5].map((m, i) => w("S", i, m)))).toBe(0);
  });
});

describe("late readings and dead letters per minute", () => {
  it("counts per minute of their timestamp, zero-filled, the current minute last", () => {
    const counter = new ActivityCounter<{ at: number }>({ keepRecent: 2, keepMinutes: 60 });
    for (const at of [60_000, 61_000, 185_000]) counter.add({ at });
    const view = counter.view(190_000, 3);
    expect(view.perMinute).toEqual([
      { minute: 60_000, count: 2 },
      { minute: 120_000, count: 0 },
      { minute: 180_000, count: 1 },
    ]);
    expect(view.total).toBe(3);
    expect(view.recent).toEqual([{ at: 185_000 }, { at: 61_000 }]);
  });

  it("forgets minutes older than it keeps", () => {
    const counter = new ActivityCounter<{ at: number }>({ keepRecent: 1, keepMinutes: 2 });
    for (let m = 0; m < 10; m++) counter.add({ at: m * 60_000 });
    expect(counter.view(9 * 60_000, 10).perMinute.filter((m) => m.count > 0)).toHaveLength(2);
    expect(counter.view(9 * 60_000, 10).total).toBe(10);
  });
});

describe("ranking sensors", () => {
  const summary = (sensor: string, end: number, dev: number | null): SensorSummary => ({
    sensor,
    last: { ...w(sensor, end - 10_000, 1) },
    held: 1,
    deviation: dev,
  });
  const all = [
    summary("Sensor10", 20, 0.5),
    summary("Sensor2", 30, null),
    summary("Sensor1", 30, 4),
    summary("Other", 10, 1),
  ];

  it("puts the most recently active first, by name among equals", () => {
    expect(rankSensors(all, "recent").map((s) => s.sensor)).toEqual([
      "Sensor1",
      "Sensor2",
      "Sensor10",
      "Other",
    ]);
  });

  it("puts the most deviating first, unknown deviations last", () => {
    expect(rankSensors(all, "deviation").map((s) => s.sensor)).toEqual([
      "Sensor1",
      "Other",
      "Sensor10",
      "Sensor2",
    ]);
  });

  it("keeps the sensors whose name contains the search, in any case", () => {
    expect(rankSensors(all, "name", " sensor1").map((s) => s.sensor)).toEqual([
      "Sensor1",
      "Sensor10",
    ]);
  });

  it("orders names with numbers as a person would", () => {
    const names = ["Sensor10", "Sensor9", "Sensor010", "a2b10", "a2b9", "Sensor", "Sensor1"];
    expect([...names].sort(byName)).toEqual([
      "Sensor",
      "Sensor1",
      "Sensor9",
      "Sensor010",
      "Sensor10",
      "a2b9",
      "a2b10",
    ]);
  });
});
