import { MAX_READING_MAGNITUDE } from "./reading.ts";

/**
 * The decoder's fast path: the value shapes nearly every record has, read straight from bytes.
 *
 * `decodeReadingReference` base64-decodes the value into a new Buffer, makes a string of it,
 * JSON-parses that into an object (twice for the seed's double-encoded values) and parses `ts`:
 * per record, more work and garbage than everything else the handler does. Here the value is
 * base64-decoded into a reusable buffer and scanned once, without a string or an object, when it is
 * `{"ts": <string or number>, "value": <number>}` (either order, JSON whitespace anywhere), or a
 * JSON string holding that. Anything else (escapes in `ts`, other fields, exponents far from 0,
 * long mantissas, unusual timestamps, any bad record) returns undefined: the caller then takes the
 * reference path, which decides it. So this path only ever has to be right about good readings,
 * and a property test holds it to the reference's exact result.
 */

/** Largest decoded value the scratch buffers grow to; a bigger value takes the reference path. */
const MAX_SCRATCH_BYTES = 64 * 1024;

/** The decoded value's bytes (reused by every record: nothing here is kept past one call). */
let bytes = Buffer.allocUnsafeSlow(1024);
/** The bytes of a double-encoded value's inner JSON text, unescaped; as large as `bytes`. */
let unescaped = Buffer.allocUnsafeSlow(1024);

/*
 * Both buffers hold a previous record's bytes past the current text, so each text is followed by a
 * 0 byte, the sentinel: no comparison the scanners make matches it, so they never read on into
 * stale bytes, and a byte at `end` needs no bounds check of its own.
 */
const SENTINEL = 0;

/**
 * Decodes `base64` into the scratch buffer, returning the byte count, or -1 when it is too large.
 * Exactly the bytes `Buffer.from(base64, "base64")` holds: the same decoder, never short of room
 * (a base64 text of n characters decodes to at most 3n/4 bytes).
 */
export const base64IntoScratch = (base64: string): number => {
  const room = ((base64.length * 3) >>> 2) + 3;
  if (room > bytes.length) {
    if (room > MAX_SCRATCH_BYTES) return -1;
    bytes = Buffer.allocUnsafeSlow(Math.max(room, bytes.length * 2));
    unescaped = Buffer.allocUnsafeSlow(bytes.length);
  }
  const length = bytes.write(base64, 0, "base64");
  bytes[length] = SENTINEL;
  return length;
};

/** The scratch bytes `[0, length)` as UTF-8 text, as `Buffer#toString("utf8")` makes it. */
export const scratchText = (length: number): string => bytes.toString("utf8", 0, length);

/** A reading's event time and value, as scanned. */
export interface ScannedReading {
  /** Event time in epoch ms (the Kafka timestamp when `ts` is not read). */
  eventTime: number;
  value: number;
}

/**
 * Reads the decoded value in the scratch buffer (`length` bytes) when it has one of the common
 * shapes and is a good reading; undefined otherwise (the reference path then decides).
 *
 * @param readTs whether the event time is the payload's `ts` (else `kafkaTimestamp`).
 * @param maxAheadMs the event time may be at most this far ahead of `kafkaTimestamp`.
 */
export const scanReading = (
  length: number,
  readTs: boolean,
  kafkaTimestamp: number,
  maxAheadMs: number,
): ScannedReading | undefined => {
  let found = false;
  const start = skipWhitespace(bytes, 0, length);
  if (bytes[start] === QUOTE) {
    // The seed producer's double encoding: a JSON string holding the JSON object.
    const inner = unescapeString(start + 1, length);
    found = inner >= 0 && scanObject(unescaped, 0, inner);
  } else {
    found = scanObject(bytes, start, length);
  }
  if (!found) return undefined;
  let eventTime = kafkaTimestamp;
  if (readTs) {
    if (scanned.tsKind === TsKind.number) eventTime = epochMs(scanned.tsNumber);
    else if (scanned.tsKind === TsKind.isoTime) eventTime = scanned.tsTime;
    else return undefined; // no ts, or a string in another form
    if (eventTime < 0 || eventTime - kafkaTimestamp > maxAheadMs) return undefined;
  }
  if (!(Math.abs(scanned.value) <= MAX_READING_MAGNITUDE)) return undefined;
  return { eventTime, value: scanned.value };
};

const TsKind = { absent: 0, number: 1, isoTime: 2, otherString: 3 } as const;
type TsKindCode = (typeof TsKind)[keyof typeof TsKind];

/** What `scanObject` found (module state rather than an object per record). */
const scanned = {
  tsKind: TsKind.absent as TsKindCode,
  /** `ts` as a JSON number. */
  tsNumber: 0,
  /** `ts` as a common ISO-8601 time, epoch ms. */
  tsTime: 0,
  value: 0,
};

/** End of the last number `scanNumber` read. */
let numberEnd = 0;

/**
 * Scans `{"ts": ..., "value": ...}` in `b[from, to)`: both keys at most once (JSON.parse keeps the
 * last of duplicates; rare enough to leave to it), `value` a number, `ts` a number or a string
 * without escapes, nothing else in the object and only whitespace after it.
 */
const scanObject = (b: Uint8Array, from: number, to: number): boolean => {
  let i = from;
  if (b[i] !== OPEN_BRACE) return false;
  scanned.tsKind = TsKind.absent;
  let sawValue = false;
  i = skipWhitespace(b, i + 1, to);
  for (;;) {
    if (b[i] !== QUOTE) return false;
    const afterKey = keyEnd(b, i + 1, to);
    if (afterKey < 0) return false;
    const isTs = afterKey - i === 4; // `"ts"`, as keyEnd matched only `ts` or `value`
    i = skipWhitespace(b, afterKey, to);
    if (b[i] !== COLON) return false;
    i = skipWhitespace(b, i + 1, to);
    if (isTs) {
      if (scanned.tsKind !== TsKind.absent) return false;
      i = scanTs(b, i, to);
    } else {
      if (sawValue) return false;
      sawValue = true;
      scanned.value = scanNumber(b, i, to);
      i = Number.isNaN(scanned.value) ? -1 : numberEnd;
    }
    if (i < 0) return false;
    i = skipWhitespace(b, i, to);
    if (b[i] === COMMA) {
      i = skipWhitespace(b, i + 1, to);
      continue;
    }
    if (b[i] !== CLOSE_BRACE) return false;
    return sawValue && skipWhitespace(b, i + 1, to) === to;
  }
};

/** After the key starting at `from` (just past its quote) when it is `ts"` or `value"`, else -1. */
const keyEnd = (b: Uint8Array, from: number, to: number): number => {
  if (from + 3 <= to && b[from] === 116 && b[from + 1] === 115 && b[from + 2] === QUOTE)
    return from + 3; // ts"
  if (
    from + 6 <= to &&
    b[from] === 118 &&
    b[from + 1] === 97 &&
    b[from + 2] === 108 &&
    b[from + 3] === 117 &&
    b[from + 4] === 101 &&
    b[from + 5] === QUOTE
  )
    return from + 6; // value"
  return -1;
};

/** Scans `ts` (a number, or a string without escapes) into `scanned`; its end, or -1. */
const scanTs = (b: Uint8Array, from: number, to: number): number => {
  if (b[from] !== QUOTE) {
    scanned.tsNumber = scanNumber(b, from, to);
    scanned.tsKind = TsKind.number;
    return Number.isNaN(scanned.tsNumber) ? -1 : numberEnd;
  }
  const time = isoTime(b, from + 1, to);
  if (time >= 0) {
    scanned.tsKind = TsKind.isoTime;
    scanned.tsTime = time;
    return isoEnd + 1;
  }
  // Another string, for a ts that is not read: printable ASCII only, so that bytes are characters
  // and the string is valid JSON as it is.
  let end = from + 1;
  while (end < to && b[end] !== QUOTE) {
    const c = b[end] as number;
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
    end++;
  }
  if (end >= to) return -1;
  scanned.tsKind = TsKind.otherString;
  return end + 1;
};

/** `parseEventTime` of a JSON number: whole milliseconds, floored. */
const epochMs = (ts: number): number => {
  const ms = Math.floor(ts);
  return ms <= MAX_EPOCH_MS ? ms : -1;
};

/** The largest time a Date holds (as `parseEventTime` bounds it). */
const MAX_EPOCH_MS = 8.64e15;

/**
 * A JSON number at `b[from]` (its end in `numberEnd`), or NaN when it is not one or not one this
 * path converts exactly. Exact: a mantissa of at most 15 digits is an exact double, and so are the
 * powers of ten up to 1e22, so one multiplication or division rounds once, correctly, to the double
 * JSON.parse makes (Clinger's fast path). Longer mantissas and larger exponents return NaN.
 */
const scanNumber = (b: Uint8Array, from: number, to: number): number => {
  let i = from;
  const negative = b[i] === MINUS;
  if (negative) i++;
  let mantissa = 0;
  let digitCount = 0;
  const intStart = i;
  while (i < to && isDigit(b[i] as number)) {
    mantissa = mantissa * 10 + ((b[i] as number) - 48);
    i++;
  }
  digitCount = i - intStart;
  // JSON: at least one integer digit, and no leading zero before another digit.
  if (digitCount === 0 || (b[intStart] === 48 && digitCount > 1)) return Number.NaN;
  let power = 0;
  if (b[i] === DOT) {
    const fracStart = ++i;
    while (i < to && isDigit(b[i] as number)) {
      mantissa = mantissa * 10 + ((b[i] as number) - 48);
      i++;
    }
    if (i === fracStart) return Number.NaN;
    power = fracStart - i;
    digitCount += i - fracStart;
  }
  if (b[i] === 101 || b[i] === 69) {
    // e or E
    i++;
    const expNegative = b[i] === MINUS;
    if (expNegative || b[i] === PLUS) i++;
    const expStart = i;
    let exponent = 0;
    while (i < to && isDigit(b[i] as number) && i - expStart < 4) {
      exponent = exponent * 10 + ((b[i] as number) - 48);
      i++;
    }
    if (i === expStart || (i < to && isDigit(b[i] as number))) return Number.NaN;
    power += expNegative ? -exponent : exponent;
  }
  if (digitCount > 15 || power > 22 || power < -22) return Number.NaN;
  numberEnd = i;
  const magnitude =
    power >= 0
      ? mantissa * (POWERS_OF_TEN[power] as number)
      : mantissa / (POWERS_OF_TEN[-power] as number);
  return negative ? -magnitude : magnitude;
};

// Each is exactly its power of ten: 10^22 = 2^22 * 5^22, and 5^22 < 2^53.
const POWERS_OF_TEN = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
  1e18, 1e19, 1e20, 1e21, 1e22,
];

/**
 * The JSON string text at `b[from]` (past its opening quote) when it is exactly
 * `YYYY-MM-DDTHH:MM:SS[.fraction][Z]`, as epoch ms read as `parseEventTime` reads it, its closing
 * quote's index in `isoEnd`; -1 for anything else (other forms, offsets, years before 1970, no such
 * date), which the reference path then parses or rejects. Parsed in place, without finding the
 * string's end first: digits and separators need no escapes, so the quote right after them ends
 * the string.
 */
const isoTime = (b: Uint8Array, from: number, to: number): number => {
  if (
    to - from < 20 ||
    b[from + 4] !== MINUS ||
    b[from + 7] !== MINUS ||
    b[from + 10] !== 84 /* T */ ||
    b[from + 13] !== COLON ||
    b[from + 16] !== COLON
  )
    return -1;
  const hour = digits(b, from + 11, 2);
  const minute = digits(b, from + 14, 2);
  const second = digits(b, from + 17, 2);
  if (hour < 0 || minute < 0 || second < 0 || hour > 23 || minute > 59 || second > 59) return -1;
  let i = from + 19;
  let millis = 0;
  if (b[i] === DOT) {
    const fracStart = ++i;
    while (i < to && isDigit(b[i] as number)) i++;
    if (i === fracStart) return -1;
    // Milliseconds: the first three fraction digits, padded; finer digits are truncated.
    for (let k = 0; k < 3; k++)
      millis = millis * 10 + (fracStart + k < i ? (b[fracStart + k] as number) - 48 : 0);
  }
  if (b[i] === 90 || b[i] === 122) i++; // Z or z, the only offset read here
  if (i >= to || b[i] !== QUOTE) return -1;
  const day = dayStart(digits(b, from, 4), digits(b, from + 5, 2), digits(b, from + 8, 2));
  isoEnd = i;
  return day < 0 ? -1 : day + ((hour * 60 + minute) * 60 + second) * 1000 + millis;
};

/** Where the last time `isoTime` read ends: its closing quote. */
let isoEnd = 0;

let cachedDate = -1;
let cachedDayStart = -1;

/**
 * Epoch ms of a date at 00:00 UTC, or -1 when it is before 1970 or no such date. One-entry cache:
 * a batch's readings are mostly of one day.
 */
const dayStart = (year: number, month: number, day: number): number => {
  if (year < 1970 || month < 0 || day < 0) return -1;
  const date = (year * 100 + month) * 100 + day;
  if (date === cachedDate) return cachedDayStart;
  const start = Date.UTC(year, month - 1, day);
  // Date.UTC rolls an impossible day or month over into the next: then it is no such date.
  const valid = month >= 1 && month <= 12 && day >= 1 && new Date(start).getUTCDate() === day;
  cachedDate = date;
  cachedDayStart = valid ? start : -1;
  return cachedDayStart;
};

/** The number written by `count` digits at `b[from]`, or -1 if any is not a digit. */
const digits = (b: Uint8Array, from: number, count: number): number => {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const c = b[i] as number;
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
};

/**
 * Unescapes the JSON string whose text starts at `bytes[from]` (past its opening quote) into
 * `unescaped`, returning the length, or -1 unless it is printable ASCII with only single-character
 * escapes and nothing but whitespace follows it (a `\u` escape, a control character, non-ASCII:
 * the reference path decides).
 */
const unescapeString = (from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) {
    let c = bytes[i] as number;
    if (c === QUOTE) {
      unescaped[n] = SENTINEL;
      return skipWhitespace(bytes, i + 1, to) === to ? n : -1;
    }
    if (c < 0x20 || c > 0x7e) return -1;
    if (c === BACKSLASH) {
      c = ESCAPED[bytes[++i] as number] ?? -1;
      if (c < 0) return -1;
    }
    unescaped[n++] = c;
  }
  return -1;
};

/** The character a JSON single-character escape stands for, by the byte after the backslash. */
const ESCAPED: Record<number, number> = {
  34: 34, // \"
  92: 92, // \\
  47: 47, // \/
  98: 8, // \b
  102: 12, // \f
  110: 10, // \n
  114: 13, // \r
  116: 9, // \t
};

/** The index of the first non-whitespace byte at or after `from` (JSON whitespace), or `to`. */
const skipWhitespace = (b: Uint8Array, from: number, to: number): number => {
  let i = from;
  while (i < to) {
    const c = b[i];
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    i++;
  }
  return i;
};

const isDigit = (c: number) => c >= 48 && c <= 57;

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const COLON = 58;
const COMMA = 44;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
