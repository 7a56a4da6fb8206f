import { describe, expect, it } from "vitest";
import { parseEventTime } from "../../core/event-time.ts";

const NOON = Date.UTC(2024, 4, 1, 12, 0, 0);

describe("parseEventTime accepts", () => {
  it.each([
    ["epoch ms", NOON, NOON],
    ["fractional epoch ms (truncated)", NOON + 0.9, NOON],
    ["ISO with microseconds (Python isoformat)", "2024-05-01T12:00:00.123456", NOON + 123],
    ["ISO without fraction (Python drops a zero fraction)", "2024-05-01T12:00:00", NOON],
    ["ISO with one fraction digit", "2024-05-01T12:00:00.5", NOON + 500],
    ["ISO with nanoseconds", "2024-05-01T12:00:00.999999999", NOON + 999],
    ["ISO without seconds", "2024-05-01T12:00", NOON],
    ["ISO with Z", "2024-05-01T12:00:00Z", NOON],
    ["ISO with +02:00", "2024-05-01T14:00:00+02:00", NOON],
    ["ISO with -0530", "2024-05-01T06:30:00-0530", NOON],
    ["a space instead of T", "2024-05-01 12:00:00", NOON],
    ["no offset means UTC", "2024-05-01T12:00:00.000", NOON],
  ])("%s", (_name, ts, expected) => {
    expect(parseEventTime(ts)).toEqual({ ok: true, time: expected });
  });
});

describe("parseEventTime rejects, saying why", () => {
  it.each([
    ["null", null, "got null"],
    ["a boolean", true, "got boolean true"],
    ["an object", {}, "got an object"],
    ["a date only", "2024-05-01", "is not ISO-8601"],
    ["free text", "yesterday", "is not ISO-8601"],
    ["the 13th month", "2024-13-01T00:00:00", "no such date"],
    ["February 30th", "2024-02-30T00:00:00", "no such date"],
    ["hour 24", "2024-05-01T24:00:00", "no such time"],
    ["NaN", Number.NaN, "not a finite number"],
    ["Infinity", Number.POSITIVE_INFINITY, "not a finite number"],
    ["before 1970", -1, "outside"],
    ["past what a Date holds", 9e15, "outside"],
  ])("%s", (_name, ts, why) => {
    const parsed = parseEventTime(ts);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.why).toContain(why);
  });
});
