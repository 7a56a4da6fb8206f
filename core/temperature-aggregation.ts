import type { Aggregation } from "./aggregation.ts";

/** Kept per window. `sum` rather than a running mean: the seed's running mean drifts. */
export interface TemperatureState {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export interface TemperatureSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * A closed window's sensor and bounds with its summary laid flat beside them (the windows topic
 * nests the summary under `temperature`): what the brute-force oracle expects and the dashboard
 * charts, one type so that the two never drift apart.
 */
export interface TemperatureWindow extends TemperatureSummary {
  sensor: string;
  /** Inclusive, epoch ms. */
  start: number;
  /** Exclusive: `start + size`. */
  end: number;
}

/** count, min, max and mean of `value`, as the seed pipeline's reducer; mean = sum / count at emission. */
export const temperatureAggregation: Aggregation<TemperatureState, TemperatureSummary> = {
  outputField: "temperature",
  init: ({ value }) => ({ count: 1, sum: value, min: value, max: value }),
  add: (state, { value }) => ({
    count: state.count + 1,
    sum: state.sum + value,
    min: Math.min(value, state.min),
    max: Math.max(value, state.max),
  }),
  result: ({ count, sum, min, max }) => ({ count, min, max, mean: sum / count }),
  resultJson: ({ count, sum, min, max }) =>
    `{"count":${numberJson(count)},"min":${numberJson(min)},"max":${numberJson(max)},"mean":${numberJson(sum / count)}}`,
};

/** A number as JSON.stringify writes it: `String(n)` when finite (-0 too: "0"), else null. */
const numberJson = (n: number): string => (Number.isFinite(n) ? String(n) : "null");
