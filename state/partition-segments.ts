import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { OpenWindow, SensorState } from "../core/window-state.ts";
import { StateFormatError } from "./errors.ts";

/**
 * How a partition's state is laid out in DynamoDB items, and encoded in them.
 *
 * DynamoDB bills a write per KB of each item written and a read per 4 KB of each item read
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html),
 * so the state of many sensors is packed into few large items rather than one small item each:
 * - a **head** item per partition (small): version, applied offset, stream time, the list of
 *   segments that make up the state, and the outbox of outputs not yet marked emitted;
 * - **segments**, immutable once written: a *full* segment holds every sensor of the partition, a
 *   *delta* segment only the sensors one commit changed (and the ones it dropped). The state is the
 *   last full segment with the deltas after it laid over it. A commit writes one segment; once the
 *   deltas since the last full segment outweigh it, the commit writes a full one instead, so writes
 *   stay within twice the changed state and a cold read within twice the state.
 * A segment is JSON compressed with raw DEFLATE, split into parts of at most {@link PART_BYTES}
 * (DynamoDB items are at most 400 KB).
 */
export const SEGMENT_FORMAT = 1;

/** Bytes of encoded segment per item, below DynamoDB's 400 KB item limit with room for the key. */
export const PART_BYTES = 350_000;

/** A segment as encoded: sensors and outputs in two separately compressed blocks. */
export interface EncodedSegment {
  /** The whole segment, to split into parts. */
  bytes: Buffer;
  /** Compressed size of the sensor block alone (what compaction weighs). */
  stateBytes: number;
}

/** What one segment holds. */
export interface Segment<S, X> {
  full: boolean;
  sensors: SensorState<S>[];
  removed: string[];
  outputs: X | undefined;
}

type EncodedSensor<S> = [
  sensor: string,
  streamTime: number | null,
  closedThrough: number | null,
  lastReadingAt: number,
  windows: [start: number, state: S][],
];

/** Compression level: 1 costs a fifth of the CPU of the default for about 10 % more bytes here. */
const LEVEL = 1;

export const encodeSegment = <S, X>(segment: Segment<S, X>): EncodedSegment => {
  const state = deflateRawSync(
    JSON.stringify({
      v: SEGMENT_FORMAT,
      full: segment.full,
      sensors: segment.sensors.map(encodeSensor),
      removed: segment.removed,
    }),
    { level: LEVEL },
  );
  const outputs =
    segment.outputs === undefined
      ? Buffer.alloc(0)
      : deflateRawSync(JSON.stringify(segment.outputs), { level: LEVEL });
  const header = Buffer.alloc(4);
  header.writeUInt32BE(state.length);
  return { bytes: Buffer.concat([header, state, outputs]), stateBytes: state.length };
};

export const decodeSegment = <S, X>(bytes: Uint8Array, where: string): Segment<S, X> => {
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const stateLength = buffer.readUInt32BE(0);
    const state = JSON.parse(inflateRawSync(buffer.subarray(4, 4 + stateLength)).toString());
    if (state?.v !== SEGMENT_FORMAT) {
      throw new StateFormatError(
        `${where} has segment format ${JSON.stringify(state?.v)}, this code reads format ${SEGMENT_FORMAT}: deploy the version that wrote it, or start from an empty table`,
      );
    }
    const rest = buffer.subarray(4 + stateLength);
    return {
      full: state.full === true,
      sensors: (state.sensors as EncodedSensor<S>[]).map(decodeSensor),
      removed: state.removed as string[],
      outputs: rest.length === 0 ? undefined : JSON.parse(inflateRawSync(rest).toString()),
    };
  } catch (error) {
    if (error instanceof StateFormatError) throw error;
    throw new StateFormatError(`${where} could not be decoded: ${(error as Error).message}`, {
      cause: error,
    });
  }
};

/** `bytes` in parts of at most {@link PART_BYTES}. */
export const partsOf = (bytes: Buffer): Buffer[] => {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += PART_BYTES) parts.push(bytes.subarray(i, i + PART_BYTES));
  return parts.length === 0 ? [Buffer.alloc(0)] : parts;
};

const encodeSensor = <S>(s: SensorState<S>): EncodedSensor<S> => [
  s.sensor,
  s.streamTime,
  s.closedThrough,
  s.lastReadingAt,
  s.windows.map((w) => [w.start, w.state]),
];

const decodeSensor = <S>([
  sensor,
  streamTime,
  closedThrough,
  lastReadingAt,
  windows,
]: EncodedSensor<S>): SensorState<S> => ({
  sensor,
  streamTime,
  closedThrough,
  lastReadingAt,
  windows: windows.map(([start, state]): OpenWindow<S> => ({ start, state })),
});
