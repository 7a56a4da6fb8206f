/**
 * The base of every error this project throws on purpose. Each area (state, harness, functions,
 * stack) declares its own subclasses in its own `errors.ts`; all of them say whether retrying the
 * same work can help, so callers (the harness, Lambda's retry) can decide without string matching.
 */
export class SensorWindowsError extends Error {
  /** True when the same call may succeed later (throttling, a conflict, a broker that was away). */
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable;
  }
}

/** A setting is missing or out of range. Never retryable: the fix is in the configuration. */
export class ConfigError extends SensorWindowsError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, ...options });
  }
}

/** An error as it crosses a thread boundary (structured clone keeps neither class nor `retryable`). */
export interface SerializedError {
  name: string;
  message: string;
  /** Unknown errors count as retryable: Lambda retries a batch whatever the error. */
  retryable: boolean;
  stack?: string;
}

export const serializeError = (error: unknown): SerializedError => {
  if (!(error instanceof Error)) return { name: "Error", message: String(error), retryable: true };
  const retryable = (error as { retryable?: unknown }).retryable;
  return {
    name: error.name,
    message: error.message,
    retryable: typeof retryable === "boolean" ? retryable : true,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
};

/**
 * An error thrown in another thread (a harness sandbox, or the harness answering one), rebuilt
 * here with its name, message, stack and `retryable`.
 */
export class CrossThreadError extends SensorWindowsError {
  constructor(error: SerializedError) {
    super(error.message, { retryable: error.retryable });
    this.name = error.name;
    if (error.stack !== undefined) this.stack = error.stack;
  }
}

/** An error class the calling side of a thread boundary knows, to rebuild its errors as (see `reviveError`). */
// biome-ignore lint/suspicious/noExplicitAny: any constructor; only its prototype is used
export type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * An error from another thread, rebuilt as the class of `known` that has its name (so that
 * `instanceof` holds, and callers recognise, say, a state conflict they retry), or else as a
 * `CrossThreadError`. The constructor is not called: its arguments did not cross the boundary.
 */
export const reviveError = (error: SerializedError, known: readonly ErrorClass[]): Error => {
  const cls = known.find((c) => c.name === error.name);
  if (cls === undefined) return new CrossThreadError(error);
  const revived = Object.create(cls.prototype) as Error & { retryable?: boolean };
  Object.assign(revived, { name: error.name, message: error.message, retryable: error.retryable });
  if (error.stack !== undefined) revived.stack = error.stack;
  return revived;
};
