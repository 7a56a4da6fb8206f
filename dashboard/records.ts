import type { DeadLetterItem, LateItem, WindowPoint } from "./protocol.ts";

/**
 * Reading the output topics' records (functions/output-records.ts writes them). Each reader returns
 * null for a record it cannot read instead of throwing: the dashboard shows what it can and counts
 * the rest, because a topic may hold records from another version or another producer.
 */

const parse = (value: Buffer | null | undefined): Record<string, unknown> | null => {
  if (value === null || value === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(value.toString("utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
};

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** A closed window: `{sensor, start, end, time, <field>: {count, min, max, mean}, closedBy}`. */
export const readWindow = (
  value: Buffer | null | undefined,
  aggregateField = "temperature",
): WindowPoint | null => {
  const v = parse(value);
  if (v === null || typeof v.sensor !== "string" || !finite(v.start) || !finite(v.end)) return null;
  const a = v[aggregateField];
  if (typeof a !== "object" || a === null) return null;
  const { count, min, max, mean } = a as Record<string, unknown>;
  if (!finite(count) || !finite(min) || !finite(max) || !finite(mean)) return null;
  return {
    sensor: v.sensor,
    start: v.start,
    end: v.end,
    count,
    min,
    max,
    mean,
    // Windows written before idle closing existed carry no closedBy: stream time closed them.
    closedBy: typeof v.closedBy === "string" ? v.closedBy : "stream-time",
  };
};

/** A late reading: `{sensor, eventTime, value, windowStart, windowEnd, lateByMs, ...}`. */
export const readLate = (value: Buffer | null | undefined, at: number): LateItem | null => {
  const v = parse(value);
  if (v === null || typeof v.sensor !== "string" || !finite(v.eventTime)) return null;
  return {
    sensor: v.sensor,
    eventTime: v.eventTime,
    windowStart: finite(v.windowStart) ? v.windowStart : v.eventTime,
    windowEnd: finite(v.windowEnd) ? v.windowEnd : v.eventTime,
    lateByMs: finite(v.lateByMs) ? v.lateByMs : 0,
    at,
  };
};

/**
 * A dead letter: `{reason, detail, source, original}`. The reason falls back to the
 * `dead-letter-reason` header, which every dead letter carries even when its value is unreadable.
 */
export const readDeadLetter = (
  value: Buffer | null | undefined,
  reasonHeader: string | undefined,
  at: number,
): DeadLetterItem | null => {
  const v = parse(value);
  const reason = typeof v?.reason === "string" ? v.reason : reasonHeader;
  if (reason === undefined) return null;
  const s = v?.source as Record<string, unknown> | undefined;
  const source =
    typeof s === "object" &&
    s !== null &&
    typeof s.topic === "string" &&
    finite(s.partition) &&
    (typeof s.offset === "string" || finite(s.offset))
      ? { topic: s.topic, partition: s.partition, offset: s.offset }
      : null;
  return { reason, detail: typeof v?.detail === "string" ? v.detail : "", source, at };
};
