/**
 * Parses a reading's `ts` into epoch milliseconds.
 *
 * Accepted: a JSON number of epoch ms, or ISO-8601 `YYYY-MM-DDTHH:MM[:SS[.fraction]][offset]` with
 * any number of fraction digits (Python's `isoformat()` writes microseconds and drops a zero
 * fraction) and an optional `Z` or `±HH:MM` / `±HHMM` offset. A time without an offset is read as
 * UTC: the seed producer writes naive local time, and UTC is the only reading that does not depend
 * on where the function runs. Fractions below a millisecond are truncated.
 *
 * Returns the time, or a sentence saying why it is not one.
 */
export const parseEventTime = (
  ts: unknown,
): { ok: true; time: number } | { ok: false; why: string } => {
  if (typeof ts === "number") {
    if (!Number.isFinite(ts)) return { ok: false, why: `ts ${ts} is not a finite number` };
    return inRange(Math.floor(ts), ts);
  }
  if (typeof ts !== "string") {
    return { ok: false, why: `ts must be an ISO-8601 string or epoch ms, got ${describe(ts)}` };
  }
  const fast = parseCommonIso(ts);
  if (fast !== undefined) return inRange(fast, ts);
  const m = ISO_8601.exec(ts);
  if (m === null) {
    return { ok: false, why: `ts "${clip(ts)}" is not ISO-8601 (e.g. 2024-05-01T12:00:00.123456)` };
  }
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, "0"));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, why: `ts "${clip(ts)}" has no such date` };
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return { ok: false, why: `ts "${clip(ts)}" has no such time of day` };
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  return inRange(utc - offsetMs(zone), ts);
};

/**
 * The format nearly every reading has, `YYYY-MM-DDTHH:MM:SS[.fraction][Z]`, parsed without a regex
 * or a Date per record (the day's start is cached): the per-record cost that decides throughput.
 * Anything else returns undefined and takes the general path.
 */
const parseCommonIso = (ts: string): number | undefined => {
  const n = ts.length;
  if (
    n < 19 ||
    ts.charCodeAt(10) !== 84 /* T */ ||
    ts.charCodeAt(13) !== 58 ||
    ts.charCodeAt(16) !== 58
  )
    return undefined;
  const hour = digits(ts, 11, 13);
  const minute = digits(ts, 14, 16);
  const second = digits(ts, 17, 19);
  if (hour < 0 || minute < 0 || second < 0 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  let i = 19;
  let millis = 0;
  if (i < n && ts.charCodeAt(i) === 46 /* . */) {
    i++;
    const start = i;
    while (i < n && isDigit(ts.charCodeAt(i))) i++;
    if (i === start) return undefined;
    for (let k = 0; k < 3; k++)
      millis = millis * 10 + (start + k < i ? ts.charCodeAt(start + k) - 48 : 0);
  }
  if (i < n && !(i === n - 1 && (ts.charCodeAt(i) === 90 || ts.charCodeAt(i) === 122)))
    return undefined; // only Z
  const day = dayStart(ts.slice(0, 10));
  return day === undefined ? undefined : day + ((hour * 60 + minute) * 60 + second) * 1000 + millis;
};

let cachedDay = "";
let cachedDayStart: number | undefined;

/** Epoch ms of `YYYY-MM-DD` at 00:00 UTC, or undefined when it is no valid date. One-entry cache. */
const dayStart = (date: string): number | undefined => {
  if (date === cachedDay) return cachedDayStart;
  const year = digits(date, 0, 4);
  const month = digits(date, 5, 7);
  const day = digits(date, 8, 10);
  const valid =
    date.charCodeAt(4) === 45 &&
    date.charCodeAt(7) === 45 &&
    year >= 0 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month);
  cachedDay = date;
  cachedDayStart = valid ? Date.UTC(year, month - 1, day) : undefined;
  return cachedDayStart;
};

const isDigit = (c: number) => c >= 48 && c <= 57;

/** The number written by the digits in [from, to), or -1 if any is not a digit. */
const digits = (s: string, from: number, to: number): number => {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
};

// Year, month, day, hour, minute, optional second, optional fraction, optional zone.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

const offsetMs = (zone: string | undefined): number => {
  if (zone === undefined || zone === "Z" || zone === "z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
};

const daysInMonth = (year: number, month: number): number =>
  new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Before the epoch or past what a Date can hold: no sensor sends that. */
const inRange = (
  time: number,
  raw: unknown,
): { ok: true; time: number } | { ok: false; why: string } =>
  time >= 0 && time <= MAX_EPOCH_MS
    ? { ok: true, time }
    : { ok: false, why: `ts ${describe(raw)} is outside 1970-01-01..275760-09-13` };

const MAX_EPOCH_MS = 8.64e15;

const clip = (s: string): string => (s.length > 64 ? `${s.slice(0, 61)}...` : s);

/** A short, safe rendering of any JSON value for error messages. */
export const describe = (value: unknown): string => {
  if (value === null) return "null";
  if (typeof value === "string") return `"${clip(value)}"`;
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return `${typeof value} ${String(value)}`;
};
