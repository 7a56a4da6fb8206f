/**
 * Tumbling windows aligned to the Unix epoch, as Quix Streams, Kafka Streams and Flink define them:
 * a window holds `[start, start + sizeMs)` and closes once stream time reaches `end + graceMs`.
 */
export interface WindowSpec {
  /** Window length in ms. Default 10 000. */
  sizeMs: number;
  /** How long after its end a window still accepts out-of-order records, in ms. Default 1 000. */
  graceMs: number;
}

export const defaultWindowSpec: WindowSpec = { sizeMs: 10_000, graceMs: 1_000 };

/** The start of the window that holds `eventTime` (epoch-aligned, also for negative times). */
export const windowStartFor = (eventTime: number, spec: WindowSpec): number => {
  const size = spec.sizeMs;
  const r = eventTime % size;
  // Whole milliseconds (every event time is): one remainder, moved up by a window when negative
  // (`+ 0` makes a remainder of -0 a 0, as the general form does). A remainder of doubles is a
  // libc call, and this runs for every reading.
  if (Number.isInteger(r) && Number.isInteger(size)) return eventTime - (r < 0 ? r + size : r + 0);
  return eventTime - ((r + size) % size);
};

/** The stream time at which the window starting at `start` closes: `end + grace`. */
export const windowCloseTime = (start: number, spec: WindowSpec): number =>
  start + spec.sizeMs + spec.graceMs;

/** The deterministic id of one sensor's window, carried in the output header `window-id`. */
export const windowId = (sensor: string, start: number): string => `${sensor}:${start}`;
