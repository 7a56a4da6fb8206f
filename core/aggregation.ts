/**
 * What an aggregation is: how to start from the first reading, how to fold in the next one, and
 * what to emit when the window closes. The window engine knows nothing else about it, so a new
 * aggregation is a new definition, never a change to the engine.
 *
 * `State` must survive `JSON.stringify`/`JSON.parse` unchanged: stores persist it as JSON.
 */
export interface Aggregation<State, Output> {
  /** Names the output field, as the seed's `{"temperature": {...}}`. */
  readonly outputField: string;
  /** The state of a window that has seen one reading. */
  init(reading: AggregatedReading): State;
  /** The state after one more reading; must not mutate `state`. */
  add(state: State, reading: AggregatedReading): State;
  /** What a closed window emits. */
  result(state: State): Output;
  /**
   * Optional: exactly `JSON.stringify(result(state))`, written without building the result. A
   * large fleet closes about one window per reading, so the output records' JSON costs as much as
   * decoding them; the output records use this when an aggregation has it.
   */
  resultJson?(state: State): string;
}

/** The part of a reading that aggregations see. */
export interface AggregatedReading {
  value: number;
  eventTime: number;
}
