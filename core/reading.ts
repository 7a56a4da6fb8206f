/** Where a Kafka record came from: enough to find it again, or to skip it on replay. */
export interface RecordCoordinates {
  topic: string;
  partition: number;
  offset: number;
  /** The Kafka record timestamp, epoch ms. */
  timestamp: number;
}

/**
 * A Kafka record as the decoder sees it: its coordinates, and its key and value base64-encoded,
 * absent or null when the record has none (the shape of a Lambda Kafka trigger's records, which
 * `functions/` delivers; declared here so that the engine depends on nothing above it).
 */
export interface SourceRecord extends RecordCoordinates {
  key?: string | null;
  value?: string | null;
}

/**
 * The largest magnitude a reading's value may have. A window's sum of such readings stays finite:
 * JSON has no Infinity, so a sum that overflowed would be stored as null and come back as 0 after a
 * cold start, changing the window's mean. Far beyond any sensor's range.
 */
export const MAX_READING_MAGNITUDE = 1e15;

/** A valid sensor reading, decoded from one Kafka record. */
export interface Reading {
  sensor: string;
  /** Epoch ms: the payload's `ts`, or the Kafka timestamp when configured so. */
  eventTime: number;
  value: number;
  source: RecordCoordinates;
}

/** `"<topic>-<partition>"`, the key Lambda groups records by and the scope of Kafka offsets. */
export const partitionIdOf = (source: { topic: string; partition: number }): string =>
  `${source.topic}-${source.partition}`;
