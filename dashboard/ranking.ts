import type { SensorSummary } from "./protocol.ts";

/**
 * Which sensors the page shows first. Shared by the page (it ranks the summaries it holds) and the
 * unit tests; pure, so 10 000 sensors rank in a few milliseconds.
 */
export const SensorOrder = {
  /** Latest window end first: the sensors that are talking now. */
  recent: "recent",
  /** Largest deviation first: the sensors whose last window is unusual for them. */
  deviation: "deviation",
  /** By name, numbers in names in numeric order (Sensor2 before Sensor10). */
  name: "name",
} as const;
export type SensorOrderName = (typeof SensorOrder)[keyof typeof SensorOrder];

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Natural order (Sensor2 before Sensor10), by character codes, locale-free: it runs for every tie
 * of every ranking, and sensor ids are identifiers, not words.
 */
export const byName = (a: string, b: string): number => {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      while (i < a.length - 1 && a.charCodeAt(i) === 48 && isDigit(a.charCodeAt(i + 1))) i++;
      while (j < b.length - 1 && b.charCodeAt(j) === 48 && isDigit(b.charCodeAt(j + 1))) j++;
      let ei = i;
      while (ei < a.length && isDigit(a.charCodeAt(ei))) ei++;
      let ej = j;
      while (ej < b.length && isDigit(b.charCodeAt(ej))) ej++;
      if (ei - i !== ej - j) return ei - i - (ej - j);
      for (; i < ei; i++, j++) {
        const d = a.charCodeAt(i) - b.charCodeAt(j);
        if (d !== 0) return d;
      }
    } else {
      if (ca !== cb) return ca - cb;
      i++;
      j++;
    }
  }
  // Equal but for leading zeros (Sensor010, Sensor10): still one order, whatever the input's.
  return a.length - i - (b.length - j) || (a < b ? -1 : a > b ? 1 : 0);
};

/** The sensors whose name contains `search` (case-insensitive), in `order`. */
export const rankSensors = (
  summaries: Iterable<SensorSummary>,
  order: SensorOrderName,
  search = "",
): SensorSummary[] => {
  const needle = search.trim().toLowerCase();
  const chosen: SensorSummary[] = [];
  for (const s of summaries) {
    if (needle === "" || s.sensor.toLowerCase().includes(needle)) chosen.push(s);
  }
  const compare =
    order === SensorOrder.recent
      ? (a: SensorSummary, b: SensorSummary) =>
          b.last.end - a.last.end || byName(a.sensor, b.sensor)
      : order === SensorOrder.deviation
        ? (a: SensorSummary, b: SensorSummary) =>
            (b.deviation ?? -1) - (a.deviation ?? -1) || byName(a.sensor, b.sensor)
        : (a: SensorSummary, b: SensorSummary) => byName(a.sensor, b.sensor);
  return chosen.sort(compare);
};
